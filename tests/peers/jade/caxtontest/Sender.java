package caxtontest;

import jade.core.AID;
import jade.lang.acl.ACLMessage;

/**
 * Sends one message and keeps whatever comes back (its queue reports it). Arguments:
 * performative, receiver (a Caxton agent), content, conversation id, reply-to (a local agent's
 * name, "" for none), protocol ("" for none).
 */
public class Sender extends TestAgent {
    @Override
    protected void setup() {
        ACLMessage msg = new ACLMessage(ACLMessage.getInteger(arg(0, "request").toUpperCase()));
        msg.addReceiver(Wire.caxton(arg(1, "echo")));
        msg.setContent(arg(2, ""));
        msg.setConversationId(arg(3, getLocalName()));
        if (!arg(4, "").isEmpty()) msg.addReplyTo(new AID(arg(4, ""), AID.ISLOCALNAME));
        if (!arg(5, "").isEmpty()) msg.setProtocol(arg(5, ""));
        msg.setReplyWith(getLocalName() + "-r1");
        send(out(msg));
    }
}
