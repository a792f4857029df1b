package dev.meshauth.policy.nodeid;

import java.io.IOException;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The node ids of one agent: a {@link NodeIdAllocator}, saved to its {@link NodeIdStore} after every
 * change (if it has one). Thread-safe. A failed save does not fail the allocation (the ids hold in memory
 * until the process ends); it is handed to the caller's {@code saveFailed}, which reports it.
 */
public final class NodeIds {
    private final NodeIdAllocator allocator;
    private final Optional<NodeIdStore> store;
    private final BiConsumer<NodeIdStore, IOException> saveFailed;

    private NodeIds(NodeIdAllocator allocator, Optional<NodeIdStore> store, BiConsumer<NodeIdStore, IOException> saveFailed) {
        this.allocator = allocator;
        this.store = store;
        this.saveFailed = saveFailed;
    }

    /** Ids kept for this process's life only (tests, development). */
    public static NodeIds inMemory() {
        return new NodeIds(new NodeIdAllocator(NodeIdAllocator.State.EMPTY), Optional.empty(), (s, e) -> { });
    }

    /**
     * Ids that persist in {@code store} across restarts; a save that fails is given to {@code saveFailed}.
     *
     * @throws IOException if the file exists and cannot be read or is malformed
     */
    public static NodeIds persistent(NodeIdStore store, BiConsumer<NodeIdStore, IOException> saveFailed) throws IOException {
        return new NodeIds(new NodeIdAllocator(store.load()), Optional.of(store), saveFailed);
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
                saveFailed.accept(s, e);
            }
        });
    }
}
