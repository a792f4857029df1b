package dev.meshauth.agent.cli;

import picocli.CommandLine;

/** Prints the build's version and the JVM it runs on. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"meshauth " + (v == null ? "dev" : v),
                "JVM " + Runtime.version() + " (" + System.getProperty("java.home") + ")"};
    }
}
