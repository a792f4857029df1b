package dev.meshauth.bpf.testing;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.fs.BpfFs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A private bpffs mounted on a fresh temporary directory for one test class. Closing unmounts it, which
 * releases every object pinned there, so a failing test leaves no pins behind.
 */
public final class ScratchBpfFs implements AutoCloseable {
    private final Path root;

    private ScratchBpfFs(Path root) {
        this.root = root;
    }

    /** Mounts a new bpffs. */
    public static ScratchBpfFs mount() throws IOException, BpfException {
        Path dir = Files.createTempDirectory("meshauth-bpffs-");
        try {
            BpfFs.ensureMounted(dir);
        } catch (BpfException e) {
            Files.deleteIfExists(dir);
            throw e;
        }
        return new ScratchBpfFs(dir);
    }

    /** The mount point. */
    public Path root() {
        return root;
    }

    /** A path under the mount point. */
    public Path resolve(String relative) {
        return root.resolve(relative);
    }

    @Override
    public void close() throws BpfException, IOException {
        BpfFs.unmount(root);
        Files.deleteIfExists(root);
    }
}
