package dev.meshauth.bpf.link;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.prog.BpfProgram;
import dev.meshauth.bpf.sys.BpfCall;
import dev.meshauth.bpf.sys.BpfCommand;
import dev.meshauth.bpf.sys.Fd;

import java.nio.file.Path;
import java.util.Optional;

import static dev.meshauth.bpf.sys.BpfAttrs.LINK_CREATE_TCX;
import static dev.meshauth.bpf.sys.BpfAttrs.LINK_DETACH;
import static dev.meshauth.bpf.sys.BpfAttrs.offset;

/**
 * A program attached to an interface with tcx ({@code BPF_LINK_CREATE}, kernel 6.6+). The attachment
 * lives as long as the link fd: closing it detaches the program, so a crashed agent leaves nothing
 * attached (unless the link was pinned, which this class does not do).
 */
public final class TcxLink implements AutoCloseable {
    private final Fd fd;
    private final String description;
    private final Hook hook;

    /**
     * Where a link is attached.
     *
     * @param ifname    the interface
     * @param netns     its network namespace, or empty for the agent's own
     * @param direction the hook
     */
    public record Hook(String ifname, Optional<Path> netns, TcxDirection direction) {
    }

    private TcxLink(Fd fd, String description, Hook hook) {
        this.fd = fd;
        this.description = description;
        this.hook = hook;
    }

    /** Where this link is attached. */
    public Hook hook() {
        return hook;
    }

    /**
     * Attaches {@code program} at {@code direction} of interface {@code ifname}, inside the network
     * namespace {@code netns} (a path such as {@code /var/run/netns/NAME}) or the current one.
     *
     * @throws BpfException if the interface does not exist (ENODEV), or the kernel has no tcx (before 6.6)
     */
    public static TcxLink attach(BpfProgram program, String ifname, Optional<Path> netns, TcxDirection direction)
            throws BpfException {
        String where = "tcx " + direction.name().toLowerCase(java.util.Locale.ROOT) + " of " + ifname
                + netns.map(p -> " in netns " + p).orElse("");
        return NetNs.run(netns, () -> {
            int ifindex = NetNs.ifindex(ifname);
            long r = BpfCall.begin(BpfCommand.LINK_CREATE)
                    .putInt(offset(LINK_CREATE_TCX, "prog_fd"), program.fd().get())
                    .putInt(offset(LINK_CREATE_TCX, "target_ifindex"), ifindex)
                    .putInt(offset(LINK_CREATE_TCX, "attach_type"), direction.attachType())
                    .invoke();
            if (r < 0) {
                int errno = (int) -r;
                String detail = errno == Errno.EINVAL.number() || errno == Errno.ENODEV.number()
                        ? "tcx needs Linux 6.6 or newer; this kernel is " + System.getProperty("os.version") : "";
                throw BpfException.syscall(BpfCommand.LINK_CREATE.kernelName(), "program " + program.name() + " -> "
                        + where, errno, detail);
            }
            return new TcxLink(new Fd((int) r), "program " + program.name() + " at " + where,
                    new Hook(ifname, netns, direction));
        });
    }

    /** What is attached where, for logs. */
    public String description() {
        return description;
    }

    /** Detaches ({@code BPF_LINK_DETACH}) and closes the link. */
    @Override
    public void close() {
        if (fd.isClosed()) {
            return;
        }
        BpfCall.begin(BpfCommand.LINK_DETACH).putInt(offset(LINK_DETACH, "link_fd"), fd.get()).invoke(); // closing the fd detaches too
        fd.close();
    }

    @Override
    public String toString() {
        return description;
    }
}
