# Test peer for FirewallNetnsIT, run inside a network namespace.
#   serve PORT...            answer every line on each port with "ok <line>"
#   connect SRC DST PORT T   exit 0 when answered, 2 when refused, 3 when nothing came back in T seconds
#   hold SRC DST PORT        keep one connection; send each stdin line, print the answer (or "lost")
import socket, sys, threading

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
    for p in ports:
        threading.Thread(target=listen, args=(int(p),), daemon=True).start()
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

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        serve(sys.argv[2:])
    elif mode == "connect":
        connect(*sys.argv[2:6])
    else:
        hold(*sys.argv[2:5])
