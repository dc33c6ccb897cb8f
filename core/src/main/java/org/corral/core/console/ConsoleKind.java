package org.corral.core.console;

/**
 * How a websocket carries a console. TERMINAL is the xterm.js protocol of Proxmox's termproxy
 * ({@code USER:TICKET\n}, then {@code 0:LEN:DATA}, {@code 1:COLS:ROWS:}, {@code 2}); RFB is raw VNC
 * bytes, the ticket being the VNC password.
 */
public enum ConsoleKind { TERMINAL, RFB }
