package dev.meshauth.policy.nodeid;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;

/**
 * The node ids of one agent: a {@link NodeIdAllocator}, saved to its {@link NodeIdStore} after every
 * change (if it has one). Thread-safe.
 */
public final class NodeIds {
    private static final Logger LOG = LoggerFactory.getLogger(NodeIds.class);

    private final NodeIdAllocator allocator;
    private final Optional<NodeIdStore> store;

    private NodeIds(NodeIdAllocator allocator, Optional<NodeIdStore> store) {
        this.allocator = allocator;
        this.store = store;
    }

    /** Ids kept for this process's life only (tests, development). */
    public static NodeIds inMemory() {
        return new NodeIds(new NodeIdAllocator(NodeIdAllocator.State.EMPTY), Optional.empty());
    }

    /**
     * Ids that persist in {@code store} across restarts.
     *
     * @throws IOException if the file exists and cannot be read or is malformed
     */
    public static NodeIds persistent(NodeIdStore store) throws IOException {
        return new NodeIds(new NodeIdAllocator(store.load()), Optional.of(store));
    }

    /** The id of {@code node}, allocated (and saved) if new; empty if every id is taken by a live node. */
    public synchronized Optional<Integer> idOf(String node) {
        boolean known = allocator.has(node);
        Optional<Integer> id = allocator.idOf(node);
        if (!known && id.isPresent()) {
            save();
        }
        return id;
    }

    /** {@code node} is gone. */
    public synchronized void release(String node) {
        if (allocator.has(node)) {
            allocator.release(node);
            save();
        }
    }

    private void save() {
        store.ifPresent(s -> {
            try {
                s.save(allocator.state());
            } catch (IOException e) {
                LOG.atError().addKeyValue("file", s.file()).addKeyValue("error", e.toString())
                        .log("saving node ids failed: they hold until this agent restarts; check the file's directory");
            }
        });
    }
}
