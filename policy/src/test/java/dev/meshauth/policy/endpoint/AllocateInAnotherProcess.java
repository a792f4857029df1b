package dev.meshauth.policy.endpoint;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** A separate process for IdentityAllocatorTest: allocates {@code app=<prefix>-<i>} for i in [0, n), prints "labels id". */
public final class AllocateInAnotherProcess {
    private AllocateInAnotherProcess() {
    }

    public static void main(String[] args) throws Exception {
        IdentityAllocator a = new IdentityAllocator(Optional.of(Path.of(args[0])));
        int n = Integer.parseInt(args[2]);
        for (int i = 0; i < n; i++) {
            Map<String, String> labels = Map.of("app", args[1] + "-" + i);
            System.out.println(IdentityAllocator.canonical(labels) + " " + a.identityOf(labels));
        }
        Map<String, String> shared = Map.of("app", "shared");
        System.out.println(IdentityAllocator.canonical(shared) + " " + a.identityOf(shared));
    }
}
