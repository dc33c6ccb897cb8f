package org.corral.access.realm;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/** TLS sockets limited to one protocol version: a realm's {@code sslversion}, for its connections only. */
final class ProtocolSocketFactory extends SSLSocketFactory {
    private final SSLSocketFactory delegate;
    private final String[] protocols;

    ProtocolSocketFactory(SSLSocketFactory delegate, String protocol) {
        this.delegate = requireNonNull(delegate, "delegate is null");
        this.protocols = new String[] {requireNonNull(protocol, "protocol is null")};
    }

    /** The JSSE name of a Proxmox sslversion value. */
    static String protocol(String sslversion) {
        return switch (sslversion) {
            case "tlsv1" -> "TLSv1";
            case "tlsv1_1" -> "TLSv1.1";
            case "tlsv1_2" -> "TLSv1.2";
            case "tlsv1_3" -> "TLSv1.3";
            default -> throw new IllegalArgumentException("unknown sslversion '" + sslversion + "'");
        };
    }

    private Socket limit(Socket socket) {
        if (socket instanceof SSLSocket ssl) {
            ssl.setEnabledProtocols(protocols);
        }
        return socket;
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
        return limit(delegate.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        return limit(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(Socket s, InputStream consumed, boolean autoClose) throws IOException {
        return limit(delegate.createSocket(s, consumed, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return limit(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return limit(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return limit(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return limit(delegate.createSocket(address, port, localAddress, localPort));
    }
}
