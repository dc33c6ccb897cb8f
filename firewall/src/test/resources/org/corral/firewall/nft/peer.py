# Test peer for FirewallNetnsIT, run inside a network namespace.
#   serve PORT...            answer every line on each port with "ok <line>"
#   connect SRC DST PORT T   exit 0 when answered, 2 when refused, 3 when nothing came back in T seconds
#   hold SRC DST PORT        keep one connection; send each stdin line, print the answer (or "lost")
#   probe                    read "ID PROTO SRC DST SPORT DPORT TIMEOUT" lines (PROTO tcp, udp or icmp, where
#                            DPORT is the ICMP type), probe each in its own thread, print "ID RESULT MS" with
#                            RESULT as for connect (0 answered, 2 refused or unreachable, 3 nothing)
import socket, struct, sys, threading

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux's value; Python < 3.12 has no name for it
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)

def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET

def serve(ports):
    def handle(conn):
        with conn:
            f = conn.makefile("rwb")
            for line in f:
                f.write(b"ok " + line)
                f.flush()
    def listen(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        while True:
            conn, _ = s.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    def listen_udp(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", port))
        while True:
            data, ancillary, _, peer = s.recvmsg(2048, 256)
            # answer from the address the datagram was sent to, as a client's connected socket expects
            info = [d for level, kind, d in ancillary if level == socket.IPPROTO_IP and kind == IP_PKTINFO]
            reply = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("=I4s4s", 0, info[0][8:12], b"\0" * 4))] if info else []
            s.sendmsg([b"ok " + data], reply, 0, peer)
    def listen6(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
        s.listen(64)
        while True:
            conn, _ = s.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    def listen_udp6(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))
        while True:
            data, ancillary, _, peer = s.recvmsg(2048, 256)
            info = [d for level, kind, d in ancillary if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO]
            reply = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, info[0][:16] + struct.pack("=I", 0))] if info else []
            s.sendmsg([b"ok " + data], reply, 0, peer)
    for p in ports:
        threading.Thread(target=listen, args=(int(p),), daemon=True).start()
        threading.Thread(target=listen_udp, args=(int(p),), daemon=True).start()
        threading.Thread(target=listen6, args=(int(p),), daemon=True).start()
        threading.Thread(target=listen_udp6, args=(int(p),), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()

def open_conn(src, dst, port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((dst, int(port)))
    return s

def connect(src, dst, port, timeout):
    try:
        s = open_conn(src, dst, port, float(timeout))
        s.sendall(b"hi\n")
        data = s.recv(100)
        sys.exit(0 if data.startswith(b"ok") else 4)
    except ConnectionRefusedError:
        sys.exit(2)
    except OSError:
        sys.exit(3)

def hold(src, dst, port):
    s = open_conn(src, dst, port, 3)
    f = s.makefile("rwb")
    print("connected", flush=True)
    for line in sys.stdin:
        try:
            f.write(line.encode())
            f.flush()
            answer = f.readline()
            print(answer.decode().strip() if answer else "lost", flush=True)
        except OSError:
            print("lost", flush=True)

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff

def probe_tcp(src, dst, sport, dport, timeout):
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(timeout)
        s.bind((src, sport))
        s.connect((dst, dport))
        s.sendall(b"hi\n")
        return 0 if s.recv(100).startswith(b"ok") else 4
    except ConnectionRefusedError:
        return 2
    except OSError:
        return 3
    finally:
        s.close()

def probe_udp(src, dst, sport, dport, timeout):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.bind((src, sport))
        s.connect((dst, dport))
        try:
            s.send(b"hi\n")
        except PermissionError:
            # dropped in this host's own output hook; a REJECT's ICMP error may still come
            pass
        return 0 if s.recv(100).startswith(b"ok") else 4
    except ConnectionRefusedError:
        return 2
    except OSError:
        return 3
    finally:
        s.close()

def probe_icmp6(src, dst, ident, icmp_type, timeout):
    import time
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    want = socket.inet_pton(socket.AF_INET6, dst)
    try:
        s.bind((src, 0))
        # the kernel fills in an ICMPv6 checksum
        body = struct.pack("!BBHHH", icmp_type, 0, 0, ident, 1) + b"corral-probe"
        try:
            s.sendto(body, (dst, 0))
        except PermissionError:
            pass
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return 3
            s.settimeout(left)
            try:
                packet, addr = s.recvfrom(2048)
            except OSError:
                return 3
            kind = packet[0]
            if kind == 129 and socket.inet_pton(socket.AF_INET6, addr[0].split("%")[0]) == want \
                    and struct.unpack("!H", packet[4:6])[0] == ident:
                return 0
            if kind == 1 and len(packet) >= 54 and struct.unpack("!H", packet[52:54])[0] == ident:
                return 2
    finally:
        s.close()

def probe_icmp(src, dst, ident, icmp_type, timeout):
    import time
    if ":" in dst:
        return probe_icmp6(src, dst, ident, icmp_type, timeout)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        s.bind((src, 0))
        body = struct.pack("!BBHHH", icmp_type, 0, 0, ident, 1) + b"corral-probe"
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        try:
            s.sendto(body, (dst, 0))
        except PermissionError:
            # dropped in this host's own output hook; a REJECT's ICMP error may still come
            pass
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return 3
            s.settimeout(left)
            try:
                packet, addr = s.recvfrom(2048)
            except OSError:
                return 3
            header = (packet[0] & 0x0f) * 4
            kind = packet[header]
            if kind in (0, 14) and addr[0] == dst and struct.unpack("!H", packet[header + 4:header + 6])[0] == ident:
                return 0
            if kind == 3:
                inner = packet[header + 8:]
                inner_header = (inner[0] & 0x0f) * 4
                if len(inner) >= inner_header + 8 and struct.unpack("!H", inner[inner_header + 4:inner_header + 6])[0] == ident:
                    return 2
    finally:
        s.close()

def probe():
    lock = threading.Lock()
    def run(words):
        ident, proto, src, dst, sport, dport, timeout = words
        import time
        start = time.time()
        try:
            if proto == "tcp":
                result = probe_tcp(src, dst, int(sport), int(dport), float(timeout))
            elif proto == "udp":
                result = probe_udp(src, dst, int(sport), int(dport), float(timeout))
            else:
                result = probe_icmp(src, dst, int(sport), int(dport), float(timeout))
        except Exception as e:
            with lock:
                print("error", ident, proto, src, dst, repr(e), flush=True)
            result = 9
        with lock:
            print(ident, result, int((time.time() - start) * 1000), flush=True)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 7:
            threading.Thread(target=run, args=(words,), daemon=True).start()

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2:])
    elif mode == "probe":
        probe()
    elif mode == "connect":
        connect(*sys.argv[2:6])
    else:
        hold(*sys.argv[2:5])
