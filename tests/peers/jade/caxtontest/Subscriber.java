package caxtontest;

import jade.core.AID;
import jade.domain.FIPANames;
import jade.lang.acl.ACLMessage;
import jade.proto.SubscriptionInitiator;
import java.util.ArrayList;
import java.util.List;

/**
 * A fipa-subscribe initiator. Arguments: the publisher (a Caxton agent), the subscription's
 * content (JSON), how many informs to take before it cancels. Reports the informs it got and
 * the answer to its cancel.
 */
public class Subscriber extends TestAgent {
    @Override
    protected void setup() {
        final AID publisher = Wire.caxton(arg(0, "ticker"));
        final int wanted = Integer.parseInt(arg(2, "2"));
        ACLMessage subscribe = new ACLMessage(ACLMessage.SUBSCRIBE);
        subscribe.addReceiver(publisher);
        subscribe.setProtocol(FIPANames.InteractionProtocol.FIPA_SUBSCRIBE);
        subscribe.setLanguage("json");
        subscribe.setContent(arg(1, "{}"));
        subscribe.setConversationId(getLocalName());
        final List<String> events = new ArrayList<>();
        addBehaviour(new SubscriptionInitiator(this, out(subscribe)) {
            private int informs;
            private boolean cancelled;

            private void note(ACLMessage m) {
                events.add("[" + Wire.quote(ACLMessage.getPerformative(m.getPerformative()).toLowerCase())
                           + "," + Wire.quote(m.getContent()) + "]");
            }

            @Override protected void handleAgree(ACLMessage m) { note(m); }
            @Override protected void handleRefuse(ACLMessage m) { note(m); }
            @Override protected void handleFailure(ACLMessage m) { note(m); }

            @Override
            protected void handleInform(ACLMessage m) {
                note(m);
                if (!cancelled && ++informs >= wanted) {
                    cancelled = true;
                    cancel(publisher, false);
                }
            }

            @Override
            protected void fillCancelContent(ACLMessage subscription, ACLMessage cancel) {
                cancel.setLanguage("json");
                cancel.setContent(subscription.getContent());
                out(cancel);
            }

            @Override
            public int onEnd() {
                result("\"events\":[" + String.join(",", events) + "]");
                return super.onEnd();
            }
        });
    }
}
