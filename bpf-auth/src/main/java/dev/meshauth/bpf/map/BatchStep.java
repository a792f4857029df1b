package dev.meshauth.bpf.map;

/**
 * Result of one batch lookup step.
 *
 * @param count entries copied in this step
 * @param done  true when the kernel reported the end of the map
 */
public record BatchStep(int count, boolean done) {
}
