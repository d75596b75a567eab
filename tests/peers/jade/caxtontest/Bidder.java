package caxtontest;

import jade.domain.FIPANames;
import jade.lang.acl.ACLMessage;
import jade.lang.acl.MessageTemplate;
import jade.proto.ContractNetResponder;

/**
 * A fipa-contract-net participant: proposes {"price": P} (JSON; P is its first argument, or
 * "refuse" to refuse every cfp), informs {"done": true, "price": P} when accepted.
 */
public class Bidder extends TestAgent {
    @Override
    protected void setup() {
        final String price = arg(0, "10");
        MessageTemplate cfp = MessageTemplate.and(
            MessageTemplate.MatchProtocol(FIPANames.InteractionProtocol.FIPA_CONTRACT_NET),
            MessageTemplate.MatchPerformative(ACLMessage.CFP));
        addBehaviour(new ContractNetResponder(this, cfp) {
            @Override
            protected ACLMessage handleCfp(ACLMessage call) {
                ACLMessage answer = call.createReply();
                if ("refuse".equals(price)) {
                    answer.setPerformative(ACLMessage.REFUSE);
                    answer.setContent("not interested");
                } else {
                    answer.setPerformative(ACLMessage.PROPOSE);
                    answer.setLanguage("json");
                    answer.setContent("{\"price\":" + price + "}");
                }
                return out(answer);
            }

            @Override
            protected ACLMessage handleAcceptProposal(ACLMessage call, ACLMessage propose,
                                                      ACLMessage accept) {
                ACLMessage done = accept.createReply();
                done.setPerformative(ACLMessage.INFORM);
                done.setLanguage("json");
                done.setContent("{\"done\":true,\"price\":" + price + "}");
                return out(done);
            }
        });
    }
}
