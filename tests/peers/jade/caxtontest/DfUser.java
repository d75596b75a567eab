package caxtontest;

import jade.core.AID;
import jade.core.behaviours.OneShotBehaviour;
import jade.domain.DFService;
import jade.domain.FIPAAgentManagement.DFAgentDescription;
import jade.domain.FIPAAgentManagement.ServiceDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * Uses Caxton's df through JADE's DFService (FIPA-SL0): registers itself offering a service
 * of the type of its first argument, searches for services of the type of its second, and
 * deregisters. Reports what each step gave.
 */
public class DfUser extends TestAgent {
    @Override
    protected void setup() {
        final String offer = arg(0, "jade-service");
        final String wanted = arg(1, "caxton-service");
        addBehaviour(new OneShotBehaviour(this) {
            @Override
            public void action() {
                AID df = Wire.caxton("df");
                List<String> steps = new ArrayList<>();
                try {
                    DFAgentDescription mine = new DFAgentDescription();
                    mine.setName(getAID());
                    ServiceDescription service = new ServiceDescription();
                    service.setType(offer);
                    service.setName(offer + "-by-" + getLocalName());
                    mine.addServices(service);
                    DFService.register(myAgent, df, mine);
                    steps.add(Wire.quote("registered"));
                    for (String type : new String[] {wanted, offer}) {
                        DFAgentDescription template = new DFAgentDescription();
                        ServiceDescription kind = new ServiceDescription();
                        kind.setType(type);
                        template.addServices(kind);
                        List<String> names = new ArrayList<>();
                        for (DFAgentDescription found : DFService.search(myAgent, df, template)) {
                            names.add(Wire.quote(found.getName().getName()));
                        }
                        steps.add("{\"type\":" + Wire.quote(type) + ",\"found\":["
                                  + String.join(",", names) + "]}");
                    }
                    DFService.deregister(myAgent, df);
                    steps.add(Wire.quote("deregistered"));
                } catch (Exception e) {
                    steps.add("{\"error\":" + Wire.quote(e.toString()) + "}");
                }
                result("\"steps\":[" + String.join(",", steps) + "]");
            }
        });
    }
}
