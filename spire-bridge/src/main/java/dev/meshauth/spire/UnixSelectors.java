package dev.meshauth.spire;

import spire.api.types.SelectorOuterClass.Selector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The selectors SPIRE's {@code unix} workload attestor derives from a caller's peer credentials:
 * {@code unix:uid:<n>}, {@code unix:user:<name>}, {@code unix:gid:<n>}, {@code unix:group:<name>} (names
 * from /etc/passwd and /etc/group, when listed there).
 */
public final class UnixSelectors {
    private UnixSelectors() {
    }

    /** This process's uid (from /proc/self), 0 if it cannot be read. */
    public static long currentUid() {
        return procSelf("unix:uid");
    }

    /** This process's gid (from /proc/self), 0 if it cannot be read. */
    public static long currentGid() {
        return procSelf("unix:gid");
    }

    private static long procSelf(String attribute) {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), attribute)).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0;
        }
    }

    /** The selector {@code unix:uid:<uid>}. */
    public static Selector uid(long uid) {
        return selector("uid:" + uid);
    }

    /** What the unix attestor gives a caller with these credentials. */
    public static List<Selector> of(long uid, long gid) {
        List<Selector> out = new ArrayList<>();
        out.add(uid(uid));
        name(Path.of("/etc/passwd"), uid).ifPresent(n -> out.add(selector("user:" + n)));
        out.add(selector("gid:" + gid));
        name(Path.of("/etc/group"), gid).ifPresent(n -> out.add(selector("group:" + n)));
        return List.copyOf(out);
    }

    private static Selector selector(String value) {
        return Selector.newBuilder().setType("unix").setValue(value).build();
    }

    /** The name of id {@code id} in a passwd-format file (name:x:id:...). */
    private static Optional<String> name(Path file, long id) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.split(":", -1);
                if (f.length > 2 && f[2].equals(Long.toString(id))) {
                    return Optional.of(f[0]);
                }
            }
        } catch (IOException e) {
            // no such database here: the numeric selectors stand alone
        }
        return Optional.empty();
    }
}
