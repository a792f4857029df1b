package dev.meshauth.bpf.btf;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a minimal BTF blob describing map key and value structs, so {@code bpftool map dump} prints
 * field names instead of hex.
 *
 * <p>Encoding per Documentation/bpf/btf.rst: a 24-byte header, then {@code btf_type} records (12 bytes,
 * plus a u32 for INT or one {@code btf_member} per field for STRUCT), then the string section, which
 * starts with the empty name. Type ids are assigned 1, 2, 3... in insertion order; 0 is void.
 * Structs are taken from a {@link StructLayout} so the Java layout and the BTF can never disagree.
 */
public final class BtfBuilder {
    private static final int BTF_MAGIC = 0xeB9F;
    private static final int HEADER_LEN = 24;
    private static final int KIND_INT = 1;
    private static final int KIND_ARRAY = 3;
    private static final int KIND_STRUCT = 4;

    private final ByteArrayOutputStream types = new ByteArrayOutputStream();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new HashMap<>();
    private final Map<Integer, Integer> unsignedIntIds = new HashMap<>();
    private int nextId = 1;

    /** Creates an empty builder. */
    public BtfBuilder() {
        strings.write(0); // offset 0: the empty name
        stringOffsets.put("", 0);
    }

    /** Adds (once per width) an unsigned integer type of {@code bytes} bytes and returns its type id. */
    public int unsignedInt(int bytes) {
        return unsignedIntIds.computeIfAbsent(bytes, b -> {
            String name = switch (b) {
                case 1 -> "__u8";
                case 2 -> "__u16";
                case 4 -> "__u32";
                case 8 -> "__u64";
                default -> throw new IllegalArgumentException("no unsigned integer of " + b + " bytes");
            };
            int id = nextId++;
            writeType(string(name), KIND_INT << 24, b);
            writeInt(b * 8); // encoding 0 (unsigned), bit offset 0, nr_bits
            return id;
        });
    }

    /** Adds an array of {@code count} unsigned integers of {@code bytes} bytes ({@code __u8 addr[16]}); returns its id. */
    public int array(int bytes, int count) {
        int elem = unsignedInt(bytes);
        int index = unsignedInt(4);
        int id = nextId++;
        writeType(0, KIND_ARRAY << 24, 0);
        writeInt(elem);
        writeInt(index);
        writeInt(count);
        return id;
    }

    /**
     * Adds a struct named like the layout ({@code layout.name()}), one unsigned integer member per value
     * field and one array member per sequence of values, padding skipped, and returns its type id.
     *
     * @throws IllegalArgumentException if the layout is unnamed, has unnamed fields, or nested structs
     */
    public int struct(StructLayout layout) {
        String name = layout.name().orElseThrow(() -> new IllegalArgumentException("BTF struct needs a named layout"));
        record Member(int nameOff, int typeId, long bitOffset) { }
        List<Member> members = new ArrayList<>();
        long offset = 0;
        for (MemoryLayout field : layout.memberLayouts()) {
            if (field instanceof ValueLayout value) {
                String fieldName = value.name().orElseThrow(
                        () -> new IllegalArgumentException("unnamed field in " + name));
                members.add(new Member(string(fieldName), unsignedInt((int) value.byteSize()), offset * 8));
            } else if (field instanceof java.lang.foreign.SequenceLayout seq && seq.elementLayout() instanceof ValueLayout v) {
                String fieldName = seq.name().orElseThrow(() -> new IllegalArgumentException("unnamed field in " + name));
                members.add(new Member(string(fieldName), array((int) v.byteSize(), (int) seq.elementCount()), offset * 8));
            } else if (!(field instanceof PaddingLayout)) {
                throw new IllegalArgumentException("BTF builder supports scalar fields only: " + field);
            }
            offset += field.byteSize();
        }
        int id = nextId++;
        writeType(string(name), KIND_STRUCT << 24 | members.size(), (int) layout.byteSize());
        for (Member m : members) {
            writeInt(m.nameOff());
            writeInt(m.typeId());
            writeInt((int) m.bitOffset());
        }
        return id;
    }

    /** The encoded blob, ready for {@code BPF_BTF_LOAD}. */
    public byte[] build() {
        byte[] typeBytes = types.toByteArray();
        byte[] stringBytes = strings.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(HEADER_LEN + typeBytes.length + stringBytes.length)
                .order(ByteOrder.nativeOrder());
        out.putShort((short) BTF_MAGIC).put((byte) 1).put((byte) 0).putInt(HEADER_LEN);
        out.putInt(0).putInt(typeBytes.length); // type_off, type_len (relative to the header's end)
        out.putInt(typeBytes.length).putInt(stringBytes.length); // str_off, str_len
        out.put(typeBytes).put(stringBytes);
        return out.array();
    }

    private int string(String s) {
        return stringOffsets.computeIfAbsent(s, k -> {
            int off = strings.size();
            strings.writeBytes(k.getBytes(StandardCharsets.US_ASCII));
            strings.write(0);
            return off;
        });
    }

    private void writeType(int nameOff, int info, int sizeOrType) {
        writeInt(nameOff);
        writeInt(info);
        writeInt(sizeOrType);
    }

    private void writeInt(int v) {
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
        types.writeBytes(b);
    }
}
