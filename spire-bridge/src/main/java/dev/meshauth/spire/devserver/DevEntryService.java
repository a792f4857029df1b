package dev.meshauth.spire.devserver;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.BatchUpdateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchUpdateEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.CountEntriesRequest;
import spire.api.server.entry.v1.EntryOuterClass.CountEntriesResponse;
import spire.api.server.entry.v1.EntryOuterClass.GetEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesResponse;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;
import spire.api.types.SelectorOuterClass.SelectorMatch;
import spire.api.types.StatusOuterClass;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * SPIRE's server Entry API on the server socket: list (filters, pagination), count, get, and the batch
 * create/update/delete with per-item statuses (the RPC itself succeeds; each result carries its code).
 */
final class DevEntryService extends EntryGrpc.EntryImplBase {
    private static final int DEFAULT_PAGE = 500;

    private final EntryStore store;

    DevEntryService(EntryStore store) {
        this.store = store;
    }

    private static StatusOuterClass.Status status(int code, String message) {
        return StatusOuterClass.Status.newBuilder().setCode(code).setMessage(message).build();
    }

    @Override
    public void listEntries(ListEntriesRequest request, StreamObserver<ListEntriesResponse> observer) {
        List<Entry> all = filtered(request.getFilter());
        int start = 0;
        if (!request.getPageToken().isEmpty()) {
            try {
                start = Integer.parseInt(request.getPageToken());
            } catch (NumberFormatException e) {
                observer.onError(Status.INVALID_ARGUMENT.withDescription("could not parse token").asRuntimeException());
                return;
            }
        }
        int size = request.getPageSize() > 0 ? request.getPageSize() : DEFAULT_PAGE;
        int end = Math.min(all.size(), start + size);
        ListEntriesResponse.Builder b = ListEntriesResponse.newBuilder();
        if (start < all.size()) {
            b.addAllEntries(all.subList(start, end));
        }
        if (end < all.size()) {
            b.setNextPageToken(Integer.toString(end));
        }
        observer.onNext(b.build());
        observer.onCompleted();
    }

    private List<Entry> filtered(ListEntriesRequest.Filter f) {
        if (f.hasBySelectors() && f.getBySelectors().getSelectorsCount() == 0) {
            throw Status.INVALID_ARGUMENT.withDescription("malformed selectors filter: empty selector set")
                    .asRuntimeException();
        }
        return store.all().stream()
                .filter(e -> !f.hasBySpiffeId() || e.getSpiffeId().equals(f.getBySpiffeId()))
                .filter(e -> !f.hasByParentId() || e.getParentId().equals(f.getByParentId()))
                .filter(e -> !f.hasBySelectors() || matches(e.getSelectorsList(), f.getBySelectors()))
                .filter(e -> !f.hasByHint() || e.getHint().equals(f.getByHint().getValue()))
                .filter(e -> !f.hasByDownstream() || e.getDownstream() == f.getByDownstream().getValue())
                .toList();
    }

    private static boolean matches(List<Selector> entrySelectors, SelectorMatch m) {
        Set<Selector> have = new HashSet<>(entrySelectors);
        Set<Selector> want = new HashSet<>(m.getSelectorsList());
        return switch (m.getMatch()) {
            case MATCH_EXACT -> have.equals(want);
            case MATCH_SUBSET -> want.containsAll(have);
            case MATCH_SUPERSET -> have.containsAll(want);
            case MATCH_ANY -> want.stream().anyMatch(have::contains);
            case UNRECOGNIZED -> false;
        };
    }

    @Override
    public void countEntries(CountEntriesRequest request, StreamObserver<CountEntriesResponse> observer) {
        try {
            // Same field numbers in both Filter messages: re-read the bytes as the list filter.
            ListEntriesRequest.Filter f = ListEntriesRequest.Filter.parseFrom(request.getFilter().toByteString());
            observer.onNext(CountEntriesResponse.newBuilder().setCount(filtered(f).size()).build());
            observer.onCompleted();
        } catch (io.grpc.StatusRuntimeException e) {
            observer.onError(e);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            observer.onError(Status.INTERNAL.withDescription("filter conversion failed").asRuntimeException());
        }
    }

    @Override
    public void getEntry(GetEntryRequest request, StreamObserver<Entry> observer) {
        store.get(request.getId()).ifPresentOrElse(e -> {
            observer.onNext(e);
            observer.onCompleted();
        }, () -> observer.onError(Status.NOT_FOUND.withDescription("entry not found").asRuntimeException()));
    }

    @Override
    public void batchCreateEntry(BatchCreateEntryRequest request, StreamObserver<BatchCreateEntryResponse> observer) {
        BatchCreateEntryResponse.Builder b = BatchCreateEntryResponse.newBuilder();
        for (EntryStore.CreateResult r : store.createAll(request.getEntriesList())) {
            BatchCreateEntryResponse.Result.Builder rb = BatchCreateEntryResponse.Result.newBuilder()
                    .setStatus(status(r.code(), r.message()));
            if (r.entry() != null) {
                rb.setEntry(r.entry());
            }
            b.addResults(rb);
        }
        observer.onNext(b.build());
        observer.onCompleted();
    }

    @Override
    public void batchUpdateEntry(BatchUpdateEntryRequest request, StreamObserver<BatchUpdateEntryResponse> observer) {
        BatchUpdateEntryResponse.Builder b = BatchUpdateEntryResponse.newBuilder();
        for (Entry e : request.getEntriesList()) {
            EntryStore.CreateResult r = store.update(e);
            BatchUpdateEntryResponse.Result.Builder rb = BatchUpdateEntryResponse.Result.newBuilder()
                    .setStatus(status(r.code(), r.message()));
            if (r.entry() != null) {
                rb.setEntry(r.entry());
            }
            b.addResults(rb);
        }
        observer.onNext(b.build());
        observer.onCompleted();
    }

    @Override
    public void batchDeleteEntry(BatchDeleteEntryRequest request, StreamObserver<BatchDeleteEntryResponse> observer) {
        BatchDeleteEntryResponse.Builder b = BatchDeleteEntryResponse.newBuilder();
        for (String id : request.getIdsList()) {
            int code = store.delete(id);
            String msg = switch (code) {
                case 0 -> "";
                case 3 -> "missing entry ID";
                default -> "entry not found";
            };
            b.addResults(BatchDeleteEntryResponse.Result.newBuilder().setId(id).setStatus(status(code, msg)));
        }
        observer.onNext(b.build());
        observer.onCompleted();
    }
}
