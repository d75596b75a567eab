package caxtontest;

import jade.domain.FIPANames;
import jade.lang.acl.ACLMessage;
import jade.lang.acl.MessageTemplate;
import jade.proto.AchieveREResponder;

/**
 * A fipa-request and fipa-query participant. The request's content says how to answer:
 * "agree" (agree, then inform "done"), "refuse" (refuse), "fail" (agree, then failure),
 * anything else not-understood. A query-ref or query-if is answered inform at once, with the
 * content "(answer <the question>)".
 */
public class Responder extends TestAgent {
    @Override
    protected void setup() {
        MessageTemplate request = MessageTemplate.and(
            MessageTemplate.MatchProtocol(FIPANames.InteractionProtocol.FIPA_REQUEST),
            MessageTemplate.MatchPerformative(ACLMessage.REQUEST));
        addBehaviour(new AchieveREResponder(this, request) {
            @Override
            protected ACLMessage handleRequest(ACLMessage req) {
                String order = req.getContent();
                ACLMessage answer = req.createReply();
                if ("agree".equals(order) || "fail".equals(order)) {
                    answer.setPerformative(ACLMessage.AGREE);
                } else if ("refuse".equals(order)) {
                    answer.setPerformative(ACLMessage.REFUSE);
                    answer.setContent("busy");
                } else {
                    answer.setPerformative(ACLMessage.NOT_UNDERSTOOD);
                    answer.setContent("unknown order: " + order);
                }
                return out(answer);
            }

            @Override
            protected ACLMessage prepareResultNotification(ACLMessage req, ACLMessage response) {
                ACLMessage result = req.createReply();
                if ("fail".equals(req.getContent())) {
                    result.setPerformative(ACLMessage.FAILURE);
                    result.setContent("broken");
                } else {
                    result.setPerformative(ACLMessage.INFORM);
                    result.setContent("done");
                }
                return out(result);
            }
        });
        MessageTemplate query = MessageTemplate.and(
            MessageTemplate.MatchProtocol(FIPANames.InteractionProtocol.FIPA_QUERY),
            MessageTemplate.or(MessageTemplate.MatchPerformative(ACLMessage.QUERY_REF),
                               MessageTemplate.MatchPerformative(ACLMessage.QUERY_IF)));
        addBehaviour(new AchieveREResponder(this, query) {
            @Override
            protected ACLMessage handleRequest(ACLMessage q) {
                ACLMessage answer = q.createReply();
                answer.setPerformative(ACLMessage.INFORM);
                answer.setContent("(answer " + q.getContent() + ")");
                return out(answer);
            }
        });
    }
}
