// The Proxmox-compatible API of the node that served this page: same origin, ticket cookie, CSRF header.

export interface Session {
  username: string;
  csrf: string;
  ticket: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly errors: Record<string, string> = {}) {
    super(message);
  }
}

const SESSION_KEY = "corral-session";

export function loadSession(): Session | null {
  const text = sessionStorage.getItem(SESSION_KEY);
  return text ? (JSON.parse(text) as Session) : null;
}

function saveSession(session: Session | null) {
  if (session) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    document.cookie = `PVEAuthCookie=${encodeURIComponent(session.ticket)}; path=/; secure; samesite=strict`;
  } else {
    sessionStorage.removeItem(SESSION_KEY);
    document.cookie = "PVEAuthCookie=; path=/; max-age=0; secure; samesite=strict";
  }
}

export async function call<T>(method: string, path: string, params: Record<string, string> = {}, session?: Session | null): Promise<T> {
  const body = new URLSearchParams(params);
  let url = "/api2/json" + path;
  const init: RequestInit = { method, headers: {}, credentials: "same-origin" };
  if (method === "GET" || method === "DELETE") {
    if (body.toString()) url += "?" + body.toString();
  } else {
    init.body = body;
  }
  if (session && method !== "GET") {
    (init.headers as Record<string, string>)["CSRFPreventionToken"] = session.csrf;
  }
  const response = await fetch(url, init);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (json.message as string | undefined)?.trim() || response.statusText;
    throw new ApiError(response.status, message, json.errors ?? {});
  }
  return json.data as T;
}

interface TicketAnswer {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
  NeedTFA?: number;
}

/** A login that still needs its second factor: the half ticket carries the challenge. */
export interface SecondFactor {
  username: string;
  challenge: string;
}

function started(answer: TicketAnswer): Session {
  const session = { username: answer.username, ticket: answer.ticket, csrf: answer.CSRFPreventionToken };
  saveSession(session);
  return session;
}

export async function login(username: string, password: string, realm: string): Promise<Session | SecondFactor> {
  const answer = await call<TicketAnswer>("POST", "/access/ticket", { username, password, realm, "new-format": "1" });
  if (answer.NeedTFA) {
    return { username: answer.username, challenge: answer.ticket };
  }
  return started(answer);
}

/** The second step: {@code response} is "totp:CODE" or "recovery:KEY", as Proxmox's GUI sends it. */
export async function secondFactor(pending: SecondFactor, response: string): Promise<Session> {
  return started(await call<TicketAnswer>("POST", "/access/ticket",
    { username: pending.username, password: response, "tfa-challenge": pending.challenge, "new-format": "1" }));
}

/** The provider's sign-in page for an OpenID realm; it sends the browser back to this page's origin. */
export async function openIdAuthUrl(realm: string): Promise<string> {
  return call<string>("POST", "/access/openid/auth-url", { realm, "redirect-url": window.location.origin });
}

/** The way back from the provider: the code and state it appended to this page's URL give a ticket. */
export async function openIdLogin(code: string, state: string): Promise<Session> {
  return started(await call<TicketAnswer>("POST", "/access/openid/login",
    { code, state, "redirect-url": window.location.origin }));
}

/** Posts the ticket as the password, as Proxmox's GUI does, to get a fresh one before it expires. */
export async function renew(session: Session): Promise<Session> {
  return started(await call<TicketAnswer>("POST", "/access/ticket", { username: session.username, password: session.ticket }));
}

export function logout() {
  saveSession(null);
}
