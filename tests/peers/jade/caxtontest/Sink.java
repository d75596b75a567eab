package caxtontest;

/** Takes messages and does nothing with them (its queue reports each one). */
public class Sink extends TestAgent {
}
