package caxtontest;

import jade.domain.FIPANames;
import jade.lang.acl.ACLMessage;
import jade.proto.ContractNetInitiator;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Vector;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fipa-contract-net initiator. Arguments: the bidders (Caxton agents, comma-separated), the
 * cfp's content (JSON), the seconds they have to propose, the accept-proposal's content (JSON).
 * Accepts the lowest {"price": P}, rejects the others; reports the proposals and the result.
 */
public class CnetInitiator extends TestAgent {
    private static final Pattern PRICE = Pattern.compile("\"price\"\\s*:\\s*(-?[0-9.]+)");

    @Override
    protected void setup() {
        ACLMessage cfp = new ACLMessage(ACLMessage.CFP);
        for (String name : arg(0, "").split(",")) cfp.addReceiver(Wire.caxton(name.trim()));
        cfp.setProtocol(FIPANames.InteractionProtocol.FIPA_CONTRACT_NET);
        cfp.setLanguage("json");
        cfp.setContent(arg(1, "{}"));
        long ms = (long) (Double.parseDouble(arg(2, "10")) * 1000);
        cfp.setReplyByDate(new Date(System.currentTimeMillis() + ms));
        cfp.setConversationId(getLocalName());
        final String acceptContent = arg(3, "null");
        final List<String> proposals = new ArrayList<>();
        final List<String> results = new ArrayList<>();
        addBehaviour(new ContractNetInitiator(this, out(cfp)) {
            @Override
            protected void handleAllResponses(Vector responses, Vector acceptances) {
                ACLMessage best = null;
                double bestPrice = Double.MAX_VALUE;
                for (Object o : responses) {
                    ACLMessage m = (ACLMessage) o;
                    proposals.add("[" + Wire.quote(m.getSender().getName()) + ","
                                  + Wire.quote(ACLMessage.getPerformative(m.getPerformative()).toLowerCase())
                                  + "," + Wire.quote(m.getContent()) + "]");
                    if (m.getPerformative() != ACLMessage.PROPOSE) continue;
                    Matcher found = PRICE.matcher(m.getContent() == null ? "" : m.getContent());
                    if (found.find() && Double.parseDouble(found.group(1)) < bestPrice) {
                        bestPrice = Double.parseDouble(found.group(1));
                        best = m;
                    }
                }
                for (Object o : responses) {
                    ACLMessage m = (ACLMessage) o;
                    if (m.getPerformative() != ACLMessage.PROPOSE) continue;
                    ACLMessage answer = m.createReply();
                    answer.setLanguage("json");
                    if (m == best) {
                        answer.setPerformative(ACLMessage.ACCEPT_PROPOSAL);
                        answer.setContent(acceptContent);
                    } else {
                        answer.setPerformative(ACLMessage.REJECT_PROPOSAL);
                        answer.setContent("{\"reason\":\"too dear\"}");
                    }
                    acceptances.add(out(answer));
                }
            }

            @Override
            protected void handleAllResultNotifications(Vector notifications) {
                for (Object o : notifications) {
                    ACLMessage m = (ACLMessage) o;
                    results.add("[" + Wire.quote(m.getSender().getName()) + ","
                                + Wire.quote(ACLMessage.getPerformative(m.getPerformative()).toLowerCase())
                                + "," + Wire.quote(m.getContent()) + "]");
                }
            }

            @Override
            public int onEnd() {
                result("\"proposals\":[" + String.join(",", proposals) + "],\"results\":["
                       + String.join(",", results) + "]");
                return super.onEnd();
            }
        });
    }
}
