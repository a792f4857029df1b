package dev.meshauth.bpf.sys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The number of possible CPUs, which sizes per-CPU map values (libbpf's {@code libbpf_num_possible_cpus}):
 * one past the highest CPU listed in {@code /sys/devices/system/cpu/possible} ("0-1", "0,2-3").
 */
public final class PossibleCpus {
    private static final int COUNT = read(Path.of("/sys/devices/system/cpu/possible"));

    private PossibleCpus() {
    }

    /** Possible CPUs on this machine. */
    public static int count() {
        return COUNT;
    }

    static int parse(String list) {
        int max = -1;
        for (String part : list.strip().split(",")) {
            String[] range = part.split("-");
            max = Math.max(max, Integer.parseInt(range[range.length - 1].strip()));
        }
        return max + 1;
    }

    private static int read(Path p) {
        try {
            return parse(Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + " (needed to size per-CPU maps)", e);
        }
    }
}
