import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, SecondFactor, Session, call, loadSession, login, logout, openIdAuthUrl, openIdLogin, renew, secondFactor } from "./api";
import { Datacenter, parseHash } from "./datacenter";
import "./app.css";

interface Realm {
  realm: string;
  type: string;
  comment?: string;
  default?: number;
}

interface Resource {
  id: string;
  type: string;
  node?: string;
  name?: string;
  vmid?: number;
  storage?: string;
  status?: string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  uptime?: number;
}

interface Task {
  upid: string;
  node: string;
  type: string;
  id?: string;
  user: string;
  starttime: number;
  status?: string;
}

const REFRESH_MS = 5000;
// tickets live 2 h; Proxmox's GUI renews well before that
const RENEW_MS = 15 * 60 * 1000;

function bytes(n?: number): string {
  if (n === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function duration(seconds?: number): string {
  if (seconds === undefined) return "-";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : `${h}h ${m}m ${Math.floor(seconds % 60)}s`;
}

function label(r: Resource): string {
  switch (r.type) {
    case "node":
      return r.node ?? r.id;
    case "qemu":
    case "lxc":
      return `${r.vmid} (${r.name ?? ""})`;
    case "storage":
      return `${r.storage} (${r.node})`;
    default:
      return r.id;
  }
}

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [realms, setRealms] = useState<Realm[]>([]);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [realm, setRealm] = useState("pam");
  const [pending, setPending] = useState<SecondFactor | null>(null);
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => {
    // back from an OpenID provider: its code and state are in this page's query
    const query = new URLSearchParams(window.location.search);
    const code = query.get("code");
    const state = query.get("state");
    if (code && state) {
      history.replaceState(null, "", window.location.pathname + window.location.hash);
      openIdLogin(code, state).then(onLogin).catch(failed);
    } else if (query.get("error")) {
      history.replaceState(null, "", window.location.pathname + window.location.hash);
      setError(`Login failed: ${query.get("error_description") ?? query.get("error")}`);
    }
    call<Realm[]>("GET", "/access/domains").then((list) => {
      setRealms(list);
      const preferred = list.find((r) => r.default) ?? list.find((r) => r.realm === "pam");
      if (preferred) setRealm(preferred.realm);
    });
  }, []);
  const failed = (err: unknown) => setError(err instanceof ApiError ? `Login failed: ${err.message}` : String(err));
  const openId = realms.find((r) => r.realm === realm)?.type === "openid";
  const submit = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      if (openId) {
        window.location.assign(await openIdAuthUrl(realm));
        return;
      }
      const answer = await login(username, password, realm);
      if ("challenge" in answer) setPending(answer);
      else onLogin(answer);
    } catch (err) {
      failed(err);
    }
  };
  const submitCode = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      onLogin(await secondFactor(pending!, (recovery ? "recovery:" : "totp:") + code.trim()));
    } catch (err) {
      setCode("");
      failed(err);
    }
  };
  if (pending) {
    return (
      <form class="login" id="second-factor" onSubmit={submitCode}>
        <h1>Second factor</h1>
        <label>
          {recovery ? "Recovery key" : "TOTP code"}
          <input id="tfa-code" value={code} autocomplete="one-time-code" onInput={(e) => setCode(e.currentTarget.value)} />
        </label>
        <label class="inline">
          <input id="use-recovery" type="checkbox" checked={recovery} onChange={(e) => setRecovery(e.currentTarget.checked)} />
          Use a recovery key
        </label>
        <button id="tfa-submit" type="submit">Confirm</button>
        <button type="button" onClick={() => setPending(null)}>Cancel</button>
        {error && <p class="error" id="login-error">{error}</p>}
      </form>
    );
  }
  return (
    <form class="login" onSubmit={submit}>
      <h1>Corral</h1>
      {!openId && (
        <label>
          User name
          <input id="username" value={username} autocomplete="username" onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
      )}
      {!openId && (
        <label>
          Password
          <input id="password" type="password" value={password} autocomplete="current-password"
            onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
      )}
      <label>
        Realm
        <select id="realm" value={realm} onChange={(e) => setRealm(e.currentTarget.value)}>
          {realms.map((r) => (
            <option value={r.realm}>{r.comment ? `${r.comment} (${r.realm})` : r.realm}</option>
          ))}
        </select>
      </label>
      <button id="login" type="submit">{openId ? "Login (OpenID redirect)" : "Login"}</button>
      {error && <p class="error" id="login-error">{error}</p>}
    </form>
  );
}

function Tree({ resources, selected, onSelect }: { resources: Resource[]; selected: string; onSelect: (id: string) => void }) {
  const nodes = resources.filter((r) => r.type === "node").sort((a, b) => label(a).localeCompare(label(b)));
  // the label is what is clicked, so that a click never lands on a child's row
  const entry = (id: string, type: string, status: string | undefined, text: string) => (
    <span class={`entry ${type} ${status ?? ""} ${selected === id ? "selected" : ""}`} data-id={id} onClick={() => onSelect(id)}>
      {text}
    </span>
  );
  return (
    <ul class="tree" id="resource-tree">
      <li>
        {entry("datacenter", "datacenter", undefined, "Datacenter")}
        <ul>
          {nodes.map((n) => (
            <li>
              {entry(n.id, "node", n.status, label(n))}
              <ul>
                {resources.filter((r) => (r.type === "qemu" || r.type === "lxc") && r.node === n.node)
                  .sort((a, b) => (a.vmid ?? 0) - (b.vmid ?? 0))
                  .map((r) => <li>{entry(r.id, r.type, r.status, label(r))}</li>)}
                {resources.filter((r) => r.type === "storage" && r.node === n.node)
                  .map((r) => <li>{entry(r.id, r.type, r.status, label(r))}</li>)}
              </ul>
            </li>
          ))}
        </ul>
      </li>
    </ul>
  );
}

function Summary({ resources, selected }: { resources: Resource[]; selected: string }) {
  if (selected === "datacenter") {
    const guests = resources.filter((r) => r.type === "qemu" || r.type === "lxc");
    return (
      <section id="summary">
        <h2>Datacenter</h2>
        <table>
          <tr><th>Nodes</th><td>{resources.filter((r) => r.type === "node").length}</td></tr>
          <tr><th>Guests</th><td>{guests.length} ({guests.filter((g) => g.status === "running").length} running)</td></tr>
          <tr><th>Storages</th><td>{resources.filter((r) => r.type === "storage").length}</td></tr>
        </table>
      </section>
    );
  }
  const r = resources.find((x) => x.id === selected);
  if (!r) return <section id="summary"><p>{selected} is gone.</p></section>;
  return (
    <section id="summary">
      <h2>{label(r)}</h2>
      <table>
        <tr><th>Type</th><td>{r.type}</td></tr>
        <tr><th>Status</th><td id="summary-status">{r.status ?? "-"}</td></tr>
        {r.cpu !== undefined && <tr><th>CPU</th><td>{(r.cpu * 100).toFixed(1)}% of {r.maxcpu ?? "?"} CPUs</td></tr>}
        {r.maxmem !== undefined && <tr><th>Memory</th><td>{bytes(r.mem)} of {bytes(r.maxmem)}</td></tr>}
        {r.maxdisk !== undefined && <tr><th>Disk</th><td>{bytes(r.disk)} of {bytes(r.maxdisk)}</td></tr>}
        {r.uptime !== undefined && <tr><th>Uptime</th><td>{duration(r.uptime)}</td></tr>}
      </table>
    </section>
  );
}

function TaskBar({ tasks }: { tasks: Task[] }) {
  return (
    <footer id="tasks">
      <table>
        <thead><tr><th>Start time</th><th>Node</th><th>User</th><th>Description</th><th>Status</th></tr></thead>
        <tbody>
          {tasks.slice(0, 10).map((t) => (
            <tr class={t.status && t.status !== "OK" ? "failed" : ""}>
              <td>{new Date(t.starttime * 1000).toLocaleString()}</td>
              <td>{t.node}</td>
              <td>{t.user}</td>
              <td>{t.type}{t.id ? ` ${t.id}` : ""}</td>
              <td>{t.status ?? "running"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </footer>
  );
}

function Main({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const [resources, setResources] = useState<Resource[]>([]);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [selected, setSelected] = useState("datacenter");
  const [hash, setHash] = useState(location.hash);
  const [error, setError] = useState("");
  useEffect(() => {
    const changed = () => {
      setHash(location.hash);
      if (parseHash(location.hash)) setSelected("datacenter");
    };
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  const select = (id: string) => {
    setSelected(id);
    location.hash = id === "datacenter" ? "#/dc/summary" : "";
  };
  const route = parseHash(hash) ?? { tab: "summary" };
  useEffect(() => {
    let live = true;
    const refresh = async () => {
      try {
        const [r, t] = await Promise.all([
          call<Resource[]>("GET", "/cluster/resources", {}, session),
          call<Task[]>("GET", "/cluster/tasks", {}, session),
        ]);
        if (live) {
          setResources(r);
          setTasks(t);
          setError("");
        }
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) onLogout();
        else if (live) setError(String(err));
      }
    };
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [session]);
  return (
    <div class="layout">
      <header>
        <span class="product">Corral</span>
        <span class="user" id="user">{session.username}</span>
        <button id="logout" onClick={onLogout}>Logout</button>
      </header>
      <nav><Tree resources={resources} selected={selected} onSelect={select} /></nav>
      <main>
        {error && <p class="error">{error}</p>}
        {selected === "datacenter"
          ? <Datacenter session={session} route={route} summary={<Summary resources={resources} selected={selected} />} />
          : <Summary resources={resources} selected={selected} />}
      </main>
      <TaskBar tasks={tasks} />
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  useEffect(() => {
    if (!session) return;
    const timer = setInterval(() => renew(session).then(setSession).catch(() => setSession(null)), RENEW_MS);
    return () => clearInterval(timer);
  }, [session]);
  const out = () => {
    logout();
    setSession(null);
  };
  return session ? <Main session={session} onLogout={out} /> : <Login onLogin={setSession} />;
}

render(<App />, document.getElementById("app")!);
