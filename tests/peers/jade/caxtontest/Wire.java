package caxtontest;

import jade.core.AID;
import jade.lang.acl.ACLMessage;
import java.util.Iterator;

/**
 * What the test agents tell the Python side: one JSON object per line on standard output,
 * prefixed with "@caxtontest " (JADE's own log lines go elsewhere or lack the prefix).
 */
public final class Wire {
    public static final String PREFIX = "@caxtontest ";
    // User-defined parameters that identify a message on each side of the MTP (JADE keeps them
    // without the "X-" of the wire: :X-Jade-Id, :X-caxton-message-id).
    public static final String JADE_ID = "Jade-Id";
    public static final String CAXTON_ID = "caxton-message-id";

    private Wire() {}

    public static synchronized void emit(String json) {
        System.out.println(PREFIX + json);
        System.out.flush();
    }

    public static String quote(String text) {
        if (text == null) return "null";
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /** A message as JSON: what both sides' counts are made of. */
    public static String message(ACLMessage msg) {
        StringBuilder receivers = new StringBuilder("[");
        Iterator<?> it = msg.getAllReceiver();
        while (it.hasNext()) {
            if (receivers.length() > 1) receivers.append(',');
            receivers.append(quote(((AID) it.next()).getName()));
        }
        receivers.append(']');
        AID sender = msg.getSender();
        return "{\"performative\":" + quote(ACLMessage.getPerformative(msg.getPerformative()).toLowerCase())
            + ",\"sender\":" + quote(sender == null ? null : sender.getName())
            + ",\"receivers\":" + receivers
            + ",\"conversation_id\":" + quote(msg.getConversationId())
            + ",\"protocol\":" + quote(msg.getProtocol())
            + ",\"in_reply_to\":" + quote(msg.getInReplyTo())
            + ",\"language\":" + quote(msg.getLanguage())
            + ",\"ontology\":" + quote(msg.getOntology())
            + ",\"content\":" + quote(msg.getContent())
            + ",\"caxton_id\":" + quote(msg.getUserDefinedParameter(CAXTON_ID))
            + ",\"jade_id\":" + quote(msg.getUserDefinedParameter(JADE_ID)) + "}";
    }

    public static void event(String kind, String agent, String fields) {
        emit("{\"kind\":" + quote(kind) + ",\"agent\":" + quote(agent)
             + (fields == null || fields.isEmpty() ? "" : "," + fields) + "}");
    }

    /** The agent of the Caxton platform named ``name`` (a plain name gets the platform's). */
    public static AID caxton(String name) {
        String platform = System.getProperty("caxton.platform", "caxton");
        AID aid = new AID(name.contains("@") ? name : name + "@" + platform, AID.ISGUID);
        String acc = System.getProperty("caxton.acc");
        if (acc != null && !acc.isEmpty()) aid.addAddresses(acc);
        return aid;
    }
}
