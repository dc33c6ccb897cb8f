package org.corral.firewall.nft;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The few libc calls the NFLOG reader needs (socket, bind, send, recv, setsockopt, open, setns,
 * close), reached through the JDK's foreign function API. The project compiles for Java 21,
 * where that API is still a preview, and runs on 22 or later, where it is final: so it is looked
 * up by reflection at run time, and {@link #load()} is empty on a JDK without it.
 */
final class Libc {
    private final Object arena;
    private final Method allocate;
    private final Method asByteBuffer;
    private final MethodHandle socket;
    private final MethodHandle bind;
    private final MethodHandle send;
    private final MethodHandle recv;
    private final MethodHandle setsockopt;
    private final MethodHandle open;
    private final MethodHandle setns;
    private final MethodHandle close;

    private Libc() throws ReflectiveOperationException {
        Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
        Class<?> lookupClass = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> layoutClass = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptorClass = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> segmentClass = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> optionClass = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> arenaClass = Class.forName("java.lang.foreign.Arena");
        Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
        Object lookup = linkerClass.getMethod("defaultLookup").invoke(linker);
        Object i = valueLayout.getField("JAVA_INT").get(null);
        Object l = valueLayout.getField("JAVA_LONG").get(null);
        Object p = valueLayout.getField("ADDRESS").get(null);
        Method of = descriptorClass.getMethod("of", layoutClass, layoutClass.arrayType());
        Method find = lookupClass.getMethod("find", String.class);
        Method downcall = linkerClass.getMethod("downcallHandle", segmentClass, descriptorClass, optionClass.arrayType());
        Object noOptions = Array.newInstance(optionClass, 0);
        Object[][] signatures = {
            {"socket", i, i, i, i}, {"bind", i, i, p, i}, {"send", l, i, p, l, i}, {"recv", l, i, p, l, i},
            {"setsockopt", i, i, i, i, p, i}, {"open", i, p, i}, {"setns", i, i, i}, {"close", i, i}};
        MethodHandle[] handles = new MethodHandle[signatures.length];
        for (int n = 0; n < signatures.length; n++) {
            Object[] s = signatures[n];
            Object args = Array.newInstance(layoutClass, s.length - 2);
            for (int a = 2; a < s.length; a++) {
                Array.set(args, a - 2, s[a]);
            }
            Object symbol = ((Optional<?>) find.invoke(lookup, s[0])).orElseThrow(() -> new NoSuchMethodException((String) s[0]));
            handles[n] = (MethodHandle) downcall.invoke(linker, symbol, of.invoke(null, s[1], args), noOptions);
        }
        socket = handles[0];
        bind = handles[1];
        send = handles[2];
        recv = handles[3];
        setsockopt = handles[4];
        open = handles[5];
        setns = handles[6];
        close = handles[7];
        arena = arenaClass.getMethod("ofShared").invoke(null);
        allocate = arenaClass.getMethod("allocate", long.class, long.class);
        asByteBuffer = segmentClass.getMethod("asByteBuffer");
    }

    /** The calls, or empty where the JDK has no final foreign function API (before 22) or native access is denied. */
    static Optional<Libc> load() {
        if (Runtime.version().feature() < 22) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Libc());
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Native memory of {@code size} bytes that lives as long as this object; its bytes through the buffer. */
    record Memory(Object segment, ByteBuffer bytes) {}

    Memory allocate(int size) {
        try {
            Object segment = allocate.invoke(arena, (long) size, 8L);
            ByteBuffer buffer = ((ByteBuffer) asByteBuffer.invoke(segment)).order(ByteOrder.nativeOrder());
            return new Memory(segment, buffer);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot allocate native memory", e);
        }
    }

    int socket(int domain, int type, int protocol) {
        return (int) call(socket, domain, type, protocol);
    }

    int bind(int fd, Memory address, int length) {
        return (int) call(bind, fd, address.segment(), length);
    }

    long send(int fd, Memory data, long length) {
        return (long) call(send, fd, data.segment(), length, 0);
    }

    long recv(int fd, Memory data, long length) {
        return (long) call(recv, fd, data.segment(), length, 0);
    }

    int setsockopt(int fd, int level, int name, Memory value, int length) {
        return (int) call(setsockopt, fd, level, name, value.segment(), length);
    }

    int open(Memory path, int flags) {
        return (int) call(open, path.segment(), flags);
    }

    int setns(int fd, int type) {
        return (int) call(setns, fd, type);
    }

    int close(int fd) {
        return (int) call(close, fd);
    }

    private static Object call(MethodHandle handle, Object... args) {
        try {
            return handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
