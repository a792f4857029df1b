package dev.meshauth.agent.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The workload the launcher records the CLI's ahead-of-time cache from (JDK 25's AOT cache, JEP 483 and
 * 515: classes loaded and linked, method profiles): the agent-facing commands, each as a user runs it,
 * against a local socket that answers the way the agent's status API answers a printed request. The cache
 * then holds exactly the classes of those commands' path and no more (a cached class is loaded at every
 * start). It answers nobody but this process.
 */
public final class AotTraining {
    private AotTraining() {
    }

    /** Runs the workload; the JVM writes the cache at exit ({@code -XX:AOTCacheOutput}). */
    public static void main(String[] args) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("meshauth-aot-training");
        Path socket = dir.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread answering = Thread.ofPlatform().daemon().start(() -> answer(server));
            String s = socket.toString();
            for (List<String> command : List.of(List.of("status", "--status-socket", s),
                    List.of("status", "--status-socket", s, "--verbose", "-o", "json"),
                    List.of("certs", "--status-socket", s), List.of("observe", "--status-socket", s, "--type", "handshake"),
                    List.of("check", "--status-socket", s, "--from", "a", "--to", "b", "--port", "80"))) {
                String[] a = command.toArray(String[]::new);
                CommandLine cl = Main.newCommandLine(a);
                PrintWriter quiet = new PrintWriter(Writer.nullWriter());
                cl.setOut(quiet);
                cl.setErr(quiet);
                Main.execute(cl, a);
            }
            answering.interrupt();
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static void answer(ServerSocketChannel server) {
        byte[] body = "Agent:   up\n".getBytes(StandardCharsets.UTF_8);
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + body.length
                + "\r\nMeshauth-Exit-Code: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        while (true) {
            try (SocketChannel c = server.accept()) {
                ByteBuffer request = ByteBuffer.allocate(8192);
                while (c.read(request) >= 0 && !new String(request.array(), 0, request.position(),
                        StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                    // read the request head
                }
                c.write(ByteBuffer.wrap(head));
                c.write(ByteBuffer.wrap(body));
            } catch (IOException e) {
                return; // closed: training is over
            }
        }
    }
}
