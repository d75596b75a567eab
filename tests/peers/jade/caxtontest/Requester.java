package caxtontest;

import jade.lang.acl.ACLMessage;
import jade.proto.AchieveREInitiator;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/**
 * A fipa-request or fipa-query initiator. Arguments: receiver (a Caxton agent), performative
 * (request, query-ref, query-if), protocol, content, language ("" for none), reply-by in
 * seconds ("" for none), conversation id. Reports the answers it got, in order, when the
 * protocol is over.
 */
public class Requester extends TestAgent {
    @Override
    protected void setup() {
        ACLMessage msg = new ACLMessage(ACLMessage.getInteger(arg(1, "request").toUpperCase()));
        msg.addReceiver(Wire.caxton(arg(0, "echo")));
        msg.setProtocol(arg(2, "fipa-request"));
        msg.setContent(arg(3, ""));
        if (!arg(4, "").isEmpty()) msg.setLanguage(arg(4, ""));
        if (!arg(5, "").isEmpty()) {
            long ms = (long) (Double.parseDouble(arg(5, "")) * 1000);
            msg.setReplyByDate(new Date(System.currentTimeMillis() + ms));
        }
        msg.setConversationId(arg(6, getLocalName()));
        final List<String> answers = new ArrayList<>();
        addBehaviour(new AchieveREInitiator(this, out(msg)) {
            private void note(ACLMessage m) {
                answers.add(Wire.quote(ACLMessage.getPerformative(m.getPerformative()).toLowerCase()));
            }

            @Override protected void handleAgree(ACLMessage m) { note(m); }
            @Override protected void handleRefuse(ACLMessage m) { note(m); }
            @Override protected void handleInform(ACLMessage m) { note(m); }
            @Override protected void handleFailure(ACLMessage m) { note(m); }
            @Override protected void handleNotUnderstood(ACLMessage m) { note(m); }
            @Override protected void handleOutOfSequence(ACLMessage m) { note(m); }

            @Override
            public int onEnd() {
                result("\"answers\":[" + String.join(",", answers) + "]");
                return super.onEnd();
            }
        });
    }
}
