package dev.meshauth.spire.grpc;

/**
 * The process at the other end of a Unix socket, as the kernel reports it (SO_PEERCRED, taken when it
 * connected).
 *
 * @param pid its process id (in this process's pid namespace)
 * @param uid its effective user id
 * @param gid its effective group id
 */
public record UnixPeer(int pid, int uid, int gid) {
}
