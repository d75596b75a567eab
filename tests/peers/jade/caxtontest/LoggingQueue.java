package caxtontest;

import jade.core.MessageQueue;
import jade.lang.acl.ACLMessage;
import jade.lang.acl.MessageTemplate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;

/** An agent's message queue that reports every message as it arrives ("recv" events). */
final class LoggingQueue implements MessageQueue {
    private final LinkedList<ACLMessage> messages = new LinkedList<>();
    private final String agent;
    private int maxSize;

    LoggingQueue(String agent) {
        this.agent = agent;
    }

    @Override
    public synchronized void addFirst(ACLMessage msg) {  // a message put back: seen already
        messages.addFirst(msg);
    }

    @Override
    public synchronized void addLast(ACLMessage msg) {
        Wire.event("recv", agent, "\"message\":" + Wire.message(msg));
        if (maxSize > 0 && messages.size() >= maxSize) messages.removeFirst();
        messages.addLast(msg);
    }

    @Override
    public synchronized int getMaxSize() {
        return maxSize;
    }

    @Override
    public synchronized void setMaxSize(int size) {
        maxSize = size;
    }

    @Override
    public synchronized boolean isEmpty() {
        return messages.isEmpty();
    }

    @Override
    public synchronized ACLMessage receive(MessageTemplate template) {
        for (Iterator<ACLMessage> it = messages.iterator(); it.hasNext();) {
            ACLMessage msg = it.next();
            if (template == null || template.match(msg)) {
                it.remove();
                return msg;
            }
        }
        return null;
    }

    @Override
    public synchronized List<ACLMessage> receive(MessageTemplate template, int max) {
        List<ACLMessage> found = new ArrayList<>();
        for (Iterator<ACLMessage> it = messages.iterator(); it.hasNext() && found.size() < max;) {
            ACLMessage msg = it.next();
            if (template == null || template.match(msg)) {
                it.remove();
                found.add(msg);
            }
        }
        return found.isEmpty() ? null : found;
    }

    @Override
    public synchronized void copyTo(jade.util.leap.List list) {
        for (ACLMessage msg : messages) list.add(msg);
    }

    @Override
    public synchronized int size() {
        return messages.size();
    }
}
