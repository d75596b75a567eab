package caxtontest;

import jade.core.Agent;
import jade.wrapper.AgentController;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Starts the test agents the Python side asks for. Standard input has one command a line,
 * fields separated by tabs: {@code start NAME CLASS [ARG...]}. Answers with a "started" (or
 * "error") event; reports "ready" once it listens.
 */
public class Control extends Agent {
    @Override
    protected void setup() {
        Thread reader = new Thread(this::read, "caxtontest-control");
        reader.setDaemon(true);
        reader.start();
        Wire.event("ready", getLocalName(), "\"platform\":" + Wire.quote(getAID().getName()));
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] fields = line.split("\t", -1);
                if (fields.length >= 3 && fields[0].equals("start")) {
                    start(fields[1], fields[2], Arrays.copyOfRange(fields, 3, fields.length));
                } else if (!line.isBlank()) {
                    Wire.event("error", getLocalName(), "\"reason\":" + Wire.quote("bad command " + line));
                }
            }
        } catch (Exception e) {
            Wire.event("error", getLocalName(), "\"reason\":" + Wire.quote(e.toString()));
        }
    }

    private void start(String name, String cls, Object[] args) {
        try {
            AgentController agent = getContainerController().createNewAgent(name, cls, args);
            agent.start();
            Wire.event("started", name, "\"class\":" + Wire.quote(cls));
        } catch (Exception e) {
            Wire.event("error", name, "\"reason\":" + Wire.quote(e.toString()));
        }
    }
}
