package caxtontest;

import jade.core.Agent;
import jade.core.MessageQueue;
import jade.lang.acl.ACLMessage;

/**
 * The base of the test agents: every message that arrives is reported ("recv"), and every
 * message the agent's own code writes goes through {@link #out}, which tags it with X-Jade-Id
 * and reports it ("sent"), so the test can count each one on both sides of the MTP.
 */
public abstract class TestAgent extends Agent {
    private int sent;

    @Override
    protected MessageQueue createMessageQueue() {
        return new LoggingQueue(getLocalName());
    }

    protected synchronized ACLMessage out(ACLMessage msg) {
        if (msg.getSender() == null) msg.setSender(getAID());
        msg.addUserDefinedParameter(Wire.JADE_ID, getLocalName() + "-" + (++sent));
        Wire.event("sent", getLocalName(), "\"message\":" + Wire.message(msg));
        return msg;
    }

    /** The agent's arguments as strings. */
    protected String arg(int index, String fallback) {
        Object[] args = getArguments();
        return args != null && args.length > index && args[index] != null
            ? args[index].toString() : fallback;
    }

    protected void result(String fields) {
        Wire.event("result", getLocalName(), fields);
    }
}
