package org.corral.access.realm;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A minimal binding of Linux-PAM through JNA: one authentication and account check with a
 * conversation that answers every prompt with the password, as Proxmox's PAM realm does.
 */
final class Pam {
    private static final int PAM_SUCCESS = 0;
    private static final int PAM_BUF_ERR = 5;
    private static final int PAM_CONV_ERR = 19;
    private static final int PAM_RHOST = 4;
    private static final int PAM_PROMPT_ECHO_OFF = 1;
    private static final int PAM_PROMPT_ECHO_ON = 2;
    private static final int MAX_MESSAGES = 32;
    // struct pam_response { char *resp; int resp_retcode; }, padded to pointer alignment
    private static final int RESPONSE_SIZE = Native.POINTER_SIZE * 2;
    // PAM modules keep process-wide state and are not thread-safe: one conversation at a time
    private static final ReentrantLock LOCK = new ReentrantLock();

    private Pam() {}

    /** The outcome of a check: empty on success, else PAM's error text. */
    static Optional<String> authenticate(String service, String user, String password, String clientAddress) {
        PamLibrary pam = Holder.LIB;
        byte[] secret = password.getBytes(StandardCharsets.UTF_8);
        Conversation callback = (count, messages, responses, appdata) -> respond(count, messages, responses, secret);
        PamConv conv = new PamConv();
        conv.conv = callback;
        conv.appdata_ptr = null;
        conv.write();
        LOCK.lock();
        try {
            PointerByReference handle = new PointerByReference();
            int status = pam.pam_start(service, user, conv, handle);
            if (status != PAM_SUCCESS) {
                return Optional.of("error during PAM init: " + pam.pam_strerror(null, status));
            }
            Pointer pamh = handle.getValue();
            try {
                if (clientAddress != null && !clientAddress.isEmpty()) {
                    pam.pam_set_item(pamh, PAM_RHOST, clientAddress);
                }
                status = pam.pam_authenticate(pamh, 0);
                if (status == PAM_SUCCESS) {
                    status = pam.pam_acct_mgmt(pamh, 0);
                }
                return status == PAM_SUCCESS ? Optional.empty() : Optional.of(pam.pam_strerror(pamh, status));
            } finally {
                pam.pam_end(pamh, status);
            }
        } finally {
            LOCK.unlock();
            // PAM holds the callback's address until pam_end
            Reference.reachabilityFence(callback);
            Reference.reachabilityFence(conv);
        }
    }

    private static int respond(int count, Pointer messages, Pointer responses, byte[] secret) {
        if (count <= 0 || count > MAX_MESSAGES || messages == null || responses == null) {
            return PAM_CONV_ERR;
        }
        // PAM frees the reply array and each answer with free(), so both come from malloc
        long array = Native.malloc((long) count * RESPONSE_SIZE);
        if (array == 0) {
            return PAM_BUF_ERR;
        }
        Pointer reply = new Pointer(array);
        reply.clear((long) count * RESPONSE_SIZE);
        for (int i = 0; i < count; i++) {
            Pointer message = messages.getPointer((long) i * Native.POINTER_SIZE);
            int style = message.getInt(0);
            if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
                long answer = Native.malloc(secret.length + 1L);
                if (answer == 0) {
                    freeAnswers(reply, i);
                    Native.free(array);
                    return PAM_BUF_ERR;
                }
                Pointer text = new Pointer(answer);
                text.write(0, secret, 0, secret.length);
                text.setByte(secret.length, (byte) 0);
                reply.setPointer((long) i * RESPONSE_SIZE, text);
            }
        }
        responses.setPointer(0, reply);
        return PAM_SUCCESS;
    }

    private static void freeAnswers(Pointer reply, int count) {
        for (int i = 0; i < count; i++) {
            Pointer answer = reply.getPointer((long) i * RESPONSE_SIZE);
            if (answer != null) {
                Native.free(Pointer.nativeValue(answer));
            }
        }
    }

    private static final class Holder {
        static final PamLibrary LIB = load();

        private static PamLibrary load() {
            try {
                return Native.load("pam", PamLibrary.class);
            } catch (UnsatisfiedLinkError e) {
                // Debian ships only the versioned name without the -dev package
                return Native.load("libpam.so.0", PamLibrary.class);
            }
        }
    }

    /** The libpam calls used. */
    public interface PamLibrary extends Library {
        int pam_start(String service, String user, PamConv conv, PointerByReference pamh);

        int pam_set_item(Pointer pamh, int itemType, String item);

        int pam_authenticate(Pointer pamh, int flags);

        int pam_acct_mgmt(Pointer pamh, int flags);

        int pam_end(Pointer pamh, int status);

        String pam_strerror(Pointer pamh, int errnum);
    }

    /** {@code int (*conv)(int, const struct pam_message **, struct pam_response **, void *)}. */
    public interface Conversation extends Callback {
        int callback(int count, Pointer messages, Pointer responses, Pointer appdata);
    }

    /** {@code struct pam_conv}. */
    @Structure.FieldOrder({"conv", "appdata_ptr"})
    public static final class PamConv extends Structure {
        public Conversation conv;
        public Pointer appdata_ptr;
    }
}
