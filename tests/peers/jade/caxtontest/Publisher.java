package caxtontest;

import jade.core.behaviours.WakerBehaviour;
import jade.domain.FIPANames;
import jade.lang.acl.ACLMessage;
import jade.lang.acl.MessageTemplate;
import jade.proto.SubscriptionResponder;

/**
 * A fipa-subscribe participant: agrees to every subscription, then informs {"tick": N} as
 * many times as its first argument says (default 2); answers a cancel with inform
 * {"cancelled": true}.
 */
public class Publisher extends TestAgent {
    @Override
    protected void setup() {
        final int ticks = Integer.parseInt(arg(0, "2"));
        MessageTemplate subscribe = MessageTemplate.and(
            MessageTemplate.MatchProtocol(FIPANames.InteractionProtocol.FIPA_SUBSCRIBE),
            MessageTemplate.or(MessageTemplate.MatchPerformative(ACLMessage.SUBSCRIBE),
                               MessageTemplate.MatchPerformative(ACLMessage.CANCEL)));
        addBehaviour(new SubscriptionResponder(this, subscribe) {
            @Override
            protected ACLMessage handleSubscription(ACLMessage request) {
                final Subscription subscription = createSubscription(request);
                myAgent.addBehaviour(new WakerBehaviour(myAgent, 200) {
                    @Override
                    protected void onWake() {
                        for (int tick = 1; tick <= ticks; tick++) {
                            ACLMessage inform = request.createReply();
                            inform.setPerformative(ACLMessage.INFORM);
                            inform.setLanguage("json");
                            inform.setContent("{\"tick\":" + tick + "}");
                            subscription.notify(out(inform));
                        }
                    }
                });
                ACLMessage agree = request.createReply();
                agree.setPerformative(ACLMessage.AGREE);
                return out(agree);
            }

            @Override
            protected ACLMessage handleCancel(ACLMessage cancel) {
                Subscription subscription = getSubscription(cancel);
                if (subscription != null) subscription.close();
                ACLMessage done = cancel.createReply();
                done.setPerformative(ACLMessage.INFORM);
                done.setLanguage("json");
                done.setContent("{\"cancelled\":true}");
                return out(done);
            }
        });
    }
}
