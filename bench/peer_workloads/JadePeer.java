// The bench/peers.py workloads on JADE 4.6.5 (see _workload.py): one main container in this
// JVM (no MTP, IMTP on a free port of 127.0.0.1), agents created in process. The client is an
// agent whose behaviour runs the workloads. One-way: N informs to a sink agent, which counts
// down a latch. Ping-pong: send to an echo agent and blockingReceive its reply. Agent to
// agent: client -> A, A sends to B with reply-to the client, B answers; a window in flight.
// Run with the JDK's source launcher:
//   java -cp jade-4.6.5.jar:commons-codec-1.18.0.jar JadePeer.java --oneway N --pingpong N
//        --a2a N --window W --rounds R --seconds S --version V   (prints one JSON line)
import jade.core.AID;
import jade.core.Agent;
import jade.core.Profile;
import jade.core.ProfileImpl;
import jade.core.behaviours.CyclicBehaviour;
import jade.core.behaviours.OneShotBehaviour;
import jade.lang.acl.ACLMessage;
import jade.wrapper.AgentContainer;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class JadePeer {
    static final String PAD = "x".repeat(80);
    static final AtomicInteger sinkCount = new AtomicInteger();
    static volatile CountDownLatch sinkDone = new CountDownLatch(1);
    static volatile int sinkWanted;
    static int oneway = 20000, pingpong = 2000, a2a = 5000, window = 256, rounds = 3;
    static double seconds = 20;
    static String version = "?";
    static final List<String> notes = new ArrayList<>();
    static final StringBuilder json = new StringBuilder();
    static final CountDownLatch finished = new CountDownLatch(1);

    static String payload(int i) { return "{\"n\": " + i + ", \"pad\": \"" + PAD + "\"}"; }
    static String small(int i) { return "{\"n\": " + i + "}"; }

    public static class Sink extends Agent {
        protected void setup() {
            addBehaviour(new CyclicBehaviour(this) {
                public void action() {
                    ACLMessage m = myAgent.receive();
                    if (m == null) { block(); return; }
                    if (sinkCount.incrementAndGet() == sinkWanted) sinkDone.countDown();
                }
            });
        }
    }

    public static class Echo extends Agent {
        protected void setup() {
            addBehaviour(new CyclicBehaviour(this) {
                public void action() {
                    ACLMessage m = myAgent.receive();
                    if (m == null) { block(); return; }
                    ACLMessage r = m.createReply();
                    r.setPerformative(ACLMessage.INFORM);
                    r.setContent(m.getContent());
                    myAgent.send(r);
                }
            });
        }
    }

    public static class Forwarder extends Agent {
        protected void setup() {
            AID b = new AID("b", AID.ISLOCALNAME);
            addBehaviour(new CyclicBehaviour(this) {
                public void action() {
                    ACLMessage m = myAgent.receive();
                    if (m == null) { block(); return; }
                    ACLMessage out = new ACLMessage(ACLMessage.REQUEST);
                    out.addReceiver(b);
                    out.addReplyTo(m.getSender());  // B answers the original sender
                    out.setContent(m.getContent());
                    myAgent.send(out);
                }
            });
        }
    }

    public static class Client extends Agent {
        protected void setup() {
            addBehaviour(new OneShotBehaviour(this) {
                public void action() {
                    try { runAll(myAgent); } catch (Exception e) { notes.add("error: " + e); }
                    finished.countDown();
                }
            });
        }
    }

    static ACLMessage to(String name, String content) {
        ACLMessage m = new ACLMessage(ACLMessage.REQUEST);
        m.addReceiver(new AID(name, AID.ISLOCALNAME));
        m.setContent(content);
        return m;
    }

    static double percentile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) return Double.NaN;
        int rank = Math.max(1, (int) Math.ceil(q / 100 * sorted.size()));
        return sorted.get(Math.min(rank, sorted.size()) - 1);
    }

    static void runAll(Agent me) throws Exception {
        List<Double> ow = new ArrayList<>(), p50 = new ArrayList<>(), p99 = new ArrayList<>(),
                aa = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            // one-way
            sinkCount.set(0);
            sinkWanted = oneway;
            sinkDone = new CountDownLatch(1);
            long deadline = System.nanoTime() + (long) (seconds * 1e9);
            long t0 = System.nanoTime();
            for (int i = 0; i < oneway; i++) {
                me.send(to("sink", payload(i)));
                if (i % 1000 == 0 && System.nanoTime() > deadline) break;
            }
            sinkDone.await(Math.max(1, (deadline - System.nanoTime()) / 1_000_000) + 1000,
                           TimeUnit.MILLISECONDS);
            int handled = sinkCount.get();
            if (handled < oneway) notes.add("one-way: time bound hit");
            ow.add(handled / ((System.nanoTime() - t0) / 1e9));
            // ping-pong
            List<Double> lat = new ArrayList<>();
            deadline = System.nanoTime() + (long) (seconds * 1e9);
            for (int i = 0; i < pingpong + 200; i++) {
                long s = System.nanoTime();
                me.send(to("echo", small(i)));
                if (me.blockingReceive(10_000) == null) throw new RuntimeException("no echo");
                if (i >= 200) lat.add((System.nanoTime() - s) / 1e3);
                if (System.nanoTime() > deadline) break;
            }
            if (lat.size() < pingpong) notes.add("ping-pong: time bound hit");
            Collections.sort(lat);
            p50.add(percentile(lat, 50));
            p99.add(percentile(lat, 99));
            // agent to agent
            deadline = System.nanoTime() + (long) (seconds * 1e9);
            t0 = System.nanoTime();
            int sent = 0, answered = 0;
            while (sent < Math.min(window, a2a)) me.send(to("a", small(sent++)));
            while (answered < sent) {
                if (me.blockingReceive(30_000) == null) throw new RuntimeException("no answer");
                answered++;
                if (sent < a2a && System.nanoTime() < deadline) me.send(to("a", small(sent++)));
            }
            if (answered < a2a) notes.add("agent to agent: time bound hit");
            aa.add(3.0 * answered / ((System.nanoTime() - t0) / 1e9));
        }
        json.append(String.format(Locale.ROOT,
            "{\"system\": \"jade\", \"version\": \"%s\", \"oneway_msgs_s\": %s, "
            + "\"pingpong_p50_us\": %s, \"pingpong_p99_us\": %s, \"a2a_msgs_s\": %s, ",
            version, ow, p50, p99, aa));
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--oneway": oneway = Integer.parseInt(v); break;
                case "--pingpong": pingpong = Integer.parseInt(v); break;
                case "--a2a": a2a = Integer.parseInt(v); break;
                case "--window": window = Integer.parseInt(v); break;
                case "--rounds": rounds = Integer.parseInt(v); break;
                case "--seconds": seconds = Double.parseDouble(v); break;
                case "--version": version = v; break;
                default: throw new IllegalArgumentException(args[i]);
            }
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) { port = s.getLocalPort(); }
        Profile p = new ProfileImpl("127.0.0.1", port, "BenchPlat", true);
        p.setParameter(Profile.LOCAL_HOST, "127.0.0.1");
        p.setParameter(Profile.LOCAL_PORT, Integer.toString(port));
        p.setParameter("nomtp", "true");
        p.setParameter(Profile.FILE_DIR, System.getProperty("java.io.tmpdir") + "/");
        AgentContainer main = jade.core.Runtime.instance().createMainContainer(p);
        main.acceptNewAgent("sink", new Sink()).start();
        main.acceptNewAgent("echo", new Echo()).start();
        main.acceptNewAgent("b", new Echo()).start();  // B answers the reply-to: an echo
        main.acceptNewAgent("a", new Forwarder()).start();
        main.acceptNewAgent("client", new Client()).start();
        boolean done = finished.await((long) (rounds * 3 * (seconds + 30) + 60), TimeUnit.SECONDS);
        if (!done) notes.add("timed out");
        StringBuilder n = new StringBuilder("[");
        for (String s : new java.util.LinkedHashSet<>(notes)) {
            if (n.length() > 1) n.append(", ");
            n.append('"').append(s.replace("\\", "\\\\").replace("\"", "'")).append('"');
        }
        n.append("]");
        if (json.length() == 0) {
            System.out.println("{\"error\": " + n + "}");
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }
        System.out.println(json + "\"notes\": " + n + "}");
        System.out.flush();
        Runtime.getRuntime().halt(0);  // JADE's threads would keep the JVM up
    }
}
