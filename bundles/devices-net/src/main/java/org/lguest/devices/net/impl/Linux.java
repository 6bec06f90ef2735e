package org.lguest.devices.net.impl;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux system calls a TAP device needs, through the JDK's foreign
 * function interface (no JNI library to build): open, close, read, write,
 * ioctl, poll, eventfd, setns. Each returns the call's result, or throws
 * {@link Errno} with the errno when the call failed (-1).
 */
final class Linux {
    static final int O_RDWR = 2;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int EFD_CLOEXEC = 0x80000;
    static final int CLONE_NEWNET = 0x40000000;
    static final short POLLIN = 1;
    static final int EINTR = 4;
    static final int EBUSY = 16;
    static final int EPERM = 1;
    static final int EACCES = 13;
    static final int ENOENT = 2;
    static final int EINVAL = 22;

    /** A failed system call. */
    static final class Errno extends Exception {
        final int errno;

        Errno(String call, int errno) {
            super(call + ": " + describe(errno));
            this.errno = errno;
        }

        static String describe(int errno) {
            return switch (errno) {
                case EPERM -> "operation not permitted (EPERM)";
                case ENOENT -> "no such file or directory (ENOENT)";
                case EACCES -> "permission denied (EACCES)";
                case EBUSY -> "device or resource busy (EBUSY)";
                case EINVAL -> "invalid argument (EINVAL)";
                default -> "errno " + errno;
            };
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static MethodHandle call(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
    }

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = call("open", FunctionDescriptor.of(INT, PTR, INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle READ = call("read", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle WRITE = call("write", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle IOCTL_PTR = call("ioctl", FunctionDescriptor.of(INT, INT, LONG, PTR), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = call("ioctl", FunctionDescriptor.of(INT, INT, LONG, LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle POLL = call("poll", FunctionDescriptor.of(INT, PTR, LONG, INT));
    private static final MethodHandle EVENTFD = call("eventfd", FunctionDescriptor.of(INT, INT, INT));
    private static final MethodHandle SETNS = call("setns", FunctionDescriptor.of(INT, INT, INT));

    private Linux() {
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO_HANDLE.get(state, 0L);
    }

    private static long check(String what, long result, MemorySegment state) throws Errno {
        if (result < 0) {
            throw new Errno(what, errno(state));
        }
        return result;
    }

    static int open(String path, int flags) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            return (int) check("open " + path, (int) OPEN.invokeExact(state, a.allocateFrom(path), flags), state);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(a.allocate(STATE), fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** read(2), retried on EINTR. */
    static long read(int fd, MemorySegment into, long length) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            for (;;) {
                long n = (long) READ.invokeExact(state, fd, into, length);
                if (n >= 0 || errno(state) != EINTR) {
                    return check("read", n, state);
                }
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static long write(int fd, MemorySegment from, long length) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            for (;;) {
                long n = (long) WRITE.invokeExact(state, fd, from, length);
                if (n >= 0 || errno(state) != EINTR) {
                    return check("write", n, state);
                }
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int ioctl(int fd, long request, MemorySegment arg, String what) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            return (int) check(what, (int) IOCTL_PTR.invokeExact(state, fd, request, arg), state);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int ioctl(int fd, long request, long arg, String what) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            return (int) check(what, (int) IOCTL_LONG.invokeExact(state, fd, request, arg), state);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Waits until one of {@code fds} is readable; returns the index of the
     * first readable one. Retried on EINTR.
     */
    static int pollIn(int... fds) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            MemorySegment set = a.allocate(8L * fds.length, 4);
            for (;;) {
                for (int i = 0; i < fds.length; i++) {
                    set.set(ValueLayout.JAVA_INT, 8L * i, fds[i]);
                    set.set(ValueLayout.JAVA_SHORT, 8L * i + 4, POLLIN);
                    set.set(ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
                }
                int n = (int) POLL.invokeExact(state, set, (long) fds.length, -1);
                if (n < 0 && errno(state) == EINTR) {
                    continue;
                }
                check("poll", n, state);
                for (int i = 0; i < fds.length; i++) {
                    if (set.get(ValueLayout.JAVA_SHORT, 8L * i + 6) != 0) {
                        return i;
                    }
                }
            }
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int eventfd() throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            return (int) check("eventfd", (int) EVENTFD.invokeExact(state, 0, EFD_CLOEXEC), state);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Adds 1 to an eventfd's counter (wakes its poller). */
    static void signal(int eventfd) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            write(eventfd, one, 8);
        }
    }

    /** Moves the calling thread into the namespace open at {@code fd}. */
    static void setns(int fd, int type, String what) throws Errno {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            check(what, (int) SETNS.invokeExact(state, fd, type), state);
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
