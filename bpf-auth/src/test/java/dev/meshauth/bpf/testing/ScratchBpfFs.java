package dev.meshauth.bpf.testing;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.fs.BpfFs;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A private bpffs mounted on a fresh temporary directory for one test class. Unmounting it afterwards
 * releases every object pinned there, so a failing test leaves no pins behind.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ScratchBpfFs BPFFS = new ScratchBpfFs();
 * }</pre>
 */
public final class ScratchBpfFs implements BeforeAllCallback, AfterAllCallback {
    private Path root;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path dir = Files.createTempDirectory("meshauth-bpffs-");
        try {
            BpfFs.ensureMounted(dir);
        } catch (BpfException e) {
            Files.deleteIfExists(dir);
            throw e;
        }
        root = dir;
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (root != null) {
            BpfFs.unmount(root);
            Files.deleteIfExists(root);
            root = null;
        }
    }

    /** The mount point. */
    public Path root() {
        if (root == null) {
            throw new IllegalStateException("scratch bpffs is not mounted (register it with @RegisterExtension)");
        }
        return root;
    }

    /** A path under the mount point. */
    public Path resolve(String relative) {
        return root().resolve(relative);
    }
}
