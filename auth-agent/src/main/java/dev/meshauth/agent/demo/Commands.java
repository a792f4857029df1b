package dev.meshauth.agent.demo;

import java.io.PrintWriter;

/** Runs a {@code meshauth} command in this process, its output into {@code out}; returns its exit code. */
@FunctionalInterface
public interface Commands {
    int run(PrintWriter out, String... args);
}
