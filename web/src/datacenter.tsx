// Datacenter views: users, groups, pools, roles, API tokens and permissions, as Proxmox's GUI has them.
// What a button does is only offered when /access/permissions says the user may; an action URL the user
// may not use answers with a message naming the privilege. Form errors are the API's: per parameter next
// to its field, anything else above the buttons.
import { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, Session, call } from "./api";

/** Path => privilege => propagate (1/0), as GET /access/permissions answers. */
export type Permissions = Record<string, Record<string, number>>;

/** Whether {@code privilege} holds on {@code path}: the path's own entry, else an ancestor's propagated one. */
export function may(perms: Permissions | null, path: string, privilege: string): boolean {
  if (!perms) return false;
  if (perms[path]) return perms[path][privilege] !== undefined;
  let p = path;
  while (p !== "/") {
    p = p.substring(0, p.lastIndexOf("/")) || "/";
    if (perms[p]) return perms[p][privilege] === 1;
  }
  return false;
}

/** Whether {@code privilege} holds anywhere (for buttons whose path the dialog chooses). */
function mayAnywhere(perms: Permissions | null, privilege: string): boolean {
  return !!perms && Object.values(perms).some((privs) => privs[privilege] !== undefined);
}

/** The route in the location hash: #/dc/TAB[/ACTION[/ID]]. */
export interface Route {
  tab: string;
  action?: string;
  id?: string;
}

export function parseHash(hash: string): Route | null {
  const parts = hash.replace(/^#\/?/, "").split("/");
  if (parts[0] !== "dc" || !parts[1]) return null;
  return { tab: parts[1], action: parts[2], id: parts.slice(3).map(decodeURIComponent).join("/") || undefined };
}

export function go(tab: string, action?: string, id?: string) {
  location.hash = "#/dc/" + tab + (action ? "/" + action : "") + (id ? "/" + encodeURIComponent(id) : "");
}

type FieldType = "text" | "password" | "checkbox" | "select" | "multi";

interface Field {
  name: string;
  label: string;
  type?: FieldType;
  options?: string[];
  placeholder?: string;
}

function FieldBox({ multi, inline, children }: { multi: boolean; inline: boolean; children: ComponentChildren }) {
  return multi ? <div class="field">{children}</div> : <label class={inline ? "inline" : ""}>{children}</label>;
}

/** A dialog whose values go to the API as they are; its errors are the API's answer. */
function Dialog({ id, title, fields, initial, submit, onDone, note }: {
  id: string;
  title: string;
  fields: Field[];
  initial?: Record<string, string>;
  submit: (values: Record<string, string>) => Promise<unknown>;
  onDone: (answer: unknown) => void;
  note?: ComponentChildren;
}) {
  const [values, setValues] = useState<Record<string, string>>(initial ?? {});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string) => setValues({ ...values, [name]: value });
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage("");
    try {
      onDone(await submit(values));
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.errors);
        const named = Object.keys(err.errors).filter((k) => fields.some((f) => f.name === k));
        const other = Object.entries(err.errors).filter(([k]) => !named.includes(k)).map(([k, v]) => `${k}: ${v}`);
        setMessage(named.length && !other.length ? "" : [err.message, ...other].join(" "));
      } else {
        setMessage(String(err));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="dialog" id={id} onSubmit={onSubmit}>
      <h3>{title}</h3>
      {fields.map((f) => (
        // a list of checkboxes has a label each, and labels do not nest
        <FieldBox multi={f.type === "multi"} inline={f.type === "checkbox"}>
          <span>{f.label}</span>
          {f.type === "multi" ? (
            <span class="multi" id={`${id}-${f.name}`}>
              {(f.options ?? []).map((o) => {
                const chosen = (values[f.name] ?? "").split(",").filter(Boolean);
                return (
                  <label class="inline">
                    <input type="checkbox" value={o} checked={chosen.includes(o)}
                      onChange={(e) => set(f.name, (e.currentTarget.checked ? [...chosen, o] : chosen.filter((c) => c !== o)).join(","))} />
                    {o}
                  </label>
                );
              })}
            </span>
          ) : f.type === "checkbox" ? (
            <input id={`${id}-${f.name}`} type="checkbox" checked={values[f.name] === "1"}
              onChange={(e) => set(f.name, e.currentTarget.checked ? "1" : "0")} />
          ) : f.type === "select" ? (
            <select id={`${id}-${f.name}`} value={values[f.name] ?? ""} onChange={(e) => set(f.name, e.currentTarget.value)}>
              <option value=""></option>
              {(f.options ?? []).map((o) => <option value={o}>{o}</option>)}
            </select>
          ) : f.type === "password" ? (
            <input id={`${id}-${f.name}`} type="password" value={values[f.name] ?? ""} autocomplete="new-password"
              onInput={(e) => set(f.name, e.currentTarget.value)} />
          ) : (
            <input id={`${id}-${f.name}`} type="text" value={values[f.name] ?? ""} placeholder={f.placeholder}
              autocomplete="off" onInput={(e) => set(f.name, e.currentTarget.value)} />
          )}
          {errors[f.name] && <span class="field-error" id={`${id}-${f.name}-error`}>{errors[f.name]}</span>}
        </FieldBox>
      ))}
      {note}
      {message && <p class="error" id={`${id}-error`}>{message}</p>}
      <div class="buttons">
        <button type="submit" id={`${id}-submit`} disabled={busy}>OK</button>
        <button type="button" id={`${id}-cancel`} onClick={() => onDone(null)}>Cancel</button>
      </div>
    </form>
  );
}

/** Drops empty values, so that optional parameters are not sent. */
function given(values: Record<string, string>, ...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) if (values[n] !== undefined && values[n] !== "") out[n] = values[n];
  return out;
}

function Grid<T>({ id, columns, rows, rowKey, selected, onSelect }: {
  id: string;
  columns: [string, (row: T) => ComponentChildren][];
  rows: T[];
  rowKey: (row: T) => string;
  selected?: string;
  onSelect?: (k: string) => void;
}) {
  return (
    <table class="grid" id={id}>
      <thead><tr>{columns.map(([h]) => <th>{h}</th>)}</tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr data-key={rowKey(r)} class={selected === rowKey(r) ? "selected" : ""} tabIndex={onSelect ? 0 : undefined}
            aria-selected={selected === rowKey(r)} onClick={() => onSelect?.(rowKey(r))}
            onKeyDown={(e) => {
              if (onSelect && (e.key === "Enter" || e.key === " ")) {
                e.preventDefault();
                onSelect(rowKey(r));
              }
            }}>
            {columns.map(([, cell]) => <td>{cell(r)}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Denied({ what, privilege, path }: { what: string; privilege: string; path: string }) {
  return (
    <p class="denied" id="denied" role="alert">
      Permission denied: {what} needs the privilege {privilege} on {path}, which your user does not have.
    </p>
  );
}

function Confirm({ id, text, run, onDone }: { id: string; text: string; run: () => Promise<unknown>; onDone: () => void }) {
  const [message, setMessage] = useState("");
  return (
    <div class="dialog" id={id}>
      <p>{text}</p>
      {message && <p class="error" id={`${id}-error`}>{message}</p>}
      <div class="buttons">
        <button id={`${id}-yes`} onClick={() => run().then(onDone, (e) => setMessage(e instanceof ApiError ? e.message : String(e)))}>Yes</button>
        <button id={`${id}-no`} onClick={onDone}>No</button>
      </div>
    </div>
  );
}

function useList<T>(session: Session, path: string, onError: (e: string) => void): [T[], () => void, T[] | null] {
  const [rows, setRows] = useState<T[] | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    call<T[]>("GET", path, {}, session).then(setRows, (e) => onError(e instanceof ApiError ? e.message : String(e)));
  }, [path, tick]);
  return [rows ?? [], () => setTick(tick + 1), rows];
}

interface Props {
  session: Session;
  perms: Permissions | null;
  route: Route;
  reloadPerms: () => void;
}

interface Action {
  name: string;
  label: string;
  allowed: boolean;
  needs: [string, string];
  needsRow?: boolean;
}

/** The toolbar and the action part of a route: a dialog when allowed, the clear message when not. */
function Toolbar({ tab, actions, selected }: { tab: string; actions: Action[]; selected?: string }) {
  return (
    <div class="toolbar">
      {actions.filter((a) => a.allowed).map((a) => (
        <button id={`${tab}-${a.name}`} disabled={a.needsRow && !selected} onClick={() => go(tab, a.name, a.needsRow ? selected : undefined)}>
          {a.label}
        </button>
      ))}
    </div>
  );
}

/**
 * What stands in for an action's dialog: nothing while the permissions load, the clear message when the action is not
 * allowed or unknown, or when its row is not there (once the list is loaded); null when the dialog may open.
 */
function guard(perms: Permissions | null, route: Route, actions: Action[], what: string, rowFound?: boolean): ComponentChildren | null {
  if (!route.action) return null;
  if (!perms) return <p class="loading">Checking permissions…</p>;
  const action = actions.find((a) => a.name === route.action);
  if (!action) return <p class="denied" id="denied">There is no action "{route.action}" here.</p>;
  if (!action.allowed) return <Denied what={`${action.label} (${what})`} privilege={action.needs[1]} path={action.needs[0]} />;
  if (action.needsRow && rowFound === false) return <p class="denied" id="denied">"{route.id ?? ""}" does not exist in {what}.</p>;
  return null;
}

/** Whether the route's row is in a loaded list: undefined while loading, so that no message flashes. */
function found<T>(rows: T[] | null, pick: (row: T) => boolean): boolean | undefined {
  return rows === null ? undefined : rows.some(pick);
}

interface User { userid: string; enable?: number; expire?: number; firstname?: string; lastname?: string; email?: string; comment?: string; groups?: string | string[] }

function Users({ session, perms, route }: Props) {
  const [error, setError] = useState("");
  const [users, reload, loaded] = useList<User>(session, "/access/users", setError);
  const [groupList] = useList<Group>(session, "/access/groups", setError);
  const [selected, setSelected] = useState<string>();
  const modify = may(perms, "/access/groups", "User.Modify");
  const actions: Action[] = [
    { name: "create", label: "Add", allowed: modify, needs: ["/access/groups", "User.Modify"] },
    { name: "edit", label: "Edit", allowed: modify, needs: ["/access/groups", "User.Modify"], needsRow: true },
    { name: "remove", label: "Remove", allowed: modify, needs: ["/access/groups", "User.Modify"], needsRow: true },
  ];
  const done = () => { reload(); go("users"); };
  const denied = guard(perms, route, actions, "users", found(loaded, (u) => u.userid === route.id));
  const row = users.find((u) => u.userid === route.id);
  const groups = (u: User) => (Array.isArray(u.groups) ? u.groups.join(",") : u.groups ?? "");
  const fields: Field[] = [
    { name: "firstname", label: "First Name" },
    { name: "lastname", label: "Last Name" },
    { name: "email", label: "E-Mail" },
    { name: "groups", label: "Group", type: "multi", options: groupList.map((g) => g.groupid) },
    { name: "expire", label: "Expire (epoch, 0 = never)" },
    { name: "enable", label: "Enabled", type: "checkbox" },
    { name: "comment", label: "Comment" },
  ];
  return (
    <section id="view-users">
      <Toolbar tab="users" actions={actions} selected={selected} />
      {error && <p class="error">{error}</p>}
      {denied}
      {!denied && route.action === "create" && (
        <Dialog id="user-dialog" title="Add: User" initial={{ enable: "1" }}
          fields={[{ name: "userid", label: "User name", placeholder: "name@pve" }, { name: "password", label: "Password", type: "password" }, ...fields]}
          submit={(v) => call("POST", "/access/users", given(v, "userid", "password", "firstname", "lastname", "email", "groups", "expire", "enable", "comment"), session)}
          onDone={done} />
      )}
      {!denied && route.action === "edit" && row && (
        <Dialog id="user-dialog" title={`Edit: User ${row.userid}`} fields={fields}
          initial={{ firstname: row.firstname ?? "", lastname: row.lastname ?? "", email: row.email ?? "", groups: groups(row),
            expire: String(row.expire ?? 0), enable: String(row.enable ?? 1), comment: row.comment ?? "" }}
          submit={(v) => call("PUT", `/access/users/${encodeURIComponent(row.userid)}`, given(v, "firstname", "lastname", "email", "groups", "expire", "enable", "comment"), session)}
          onDone={done} />
      )}
      {!denied && route.action === "remove" && row && (
        <Confirm id="confirm" text={`Remove user ${row.userid}?`}
          run={() => call("DELETE", `/access/users/${encodeURIComponent(row.userid)}`, {}, session)} onDone={done} />
      )}
      <Grid<User> id="users-grid" rows={users} rowKey={(u) => u.userid} selected={selected} onSelect={setSelected} columns={[
        ["User name", (u) => u.userid.substring(0, u.userid.lastIndexOf("@"))],
        ["Realm", (u) => u.userid.substring(u.userid.lastIndexOf("@") + 1)],
        ["Enabled", (u) => (u.enable === 0 ? "No" : "Yes")],
        ["Expire", (u) => (u.expire ? new Date(u.expire * 1000).toLocaleDateString() : "never")],
        ["Name", (u) => [u.firstname, u.lastname].filter(Boolean).join(" ")],
        ["Groups", groups],
        ["Comment", (u) => u.comment ?? ""],
      ]} />
    </section>
  );
}

interface Group { groupid: string; comment?: string; users?: string }

function Groups({ session, perms, route }: Props) {
  const [error, setError] = useState("");
  const [rows, reload, loaded] = useList<Group>(session, "/access/groups", setError);
  const [selected, setSelected] = useState<string>();
  const allowed = may(perms, "/access/groups", "Group.Allocate");
  const needs: [string, string] = ["/access/groups", "Group.Allocate"];
  const actions: Action[] = [
    { name: "create", label: "Create", allowed, needs },
    { name: "edit", label: "Edit", allowed, needs, needsRow: true },
    { name: "remove", label: "Remove", allowed, needs, needsRow: true },
  ];
  const done = () => { reload(); go("groups"); };
  const denied = guard(perms, route, actions, "groups", found(loaded, (g) => g.groupid === route.id));
  const row = rows.find((g) => g.groupid === route.id);
  return (
    <section id="view-groups">
      <Toolbar tab="groups" actions={actions} selected={selected} />
      {error && <p class="error">{error}</p>}
      {denied}
      {!denied && route.action === "create" && (
        <Dialog id="group-dialog" title="Create: Group" fields={[{ name: "groupid", label: "Name" }, { name: "comment", label: "Comment" }]}
          submit={(v) => call("POST", "/access/groups", given(v, "groupid", "comment"), session)} onDone={done} />
      )}
      {!denied && route.action === "edit" && row && (
        <Dialog id="group-dialog" title={`Edit: Group ${row.groupid}`} fields={[{ name: "comment", label: "Comment" }]}
          initial={{ comment: row.comment ?? "" }}
          submit={(v) => call("PUT", `/access/groups/${encodeURIComponent(row.groupid)}`, { comment: v.comment ?? "" }, session)} onDone={done} />
      )}
      {!denied && route.action === "remove" && row && (
        <Confirm id="confirm" text={`Remove group ${row.groupid}?`}
          run={() => call("DELETE", `/access/groups/${encodeURIComponent(row.groupid)}`, {}, session)} onDone={done} />
      )}
      <Grid<Group> id="groups-grid" rows={rows} rowKey={(g) => g.groupid} selected={selected} onSelect={setSelected} columns={[
        ["Name", (g) => g.groupid], ["Comment", (g) => g.comment ?? ""], ["Users", (g) => g.users ?? ""],
      ]} />
    </section>
  );
}

interface Pool { poolid: string; comment?: string }
interface Member { id: string; type: string; vmid?: number; storage?: string; node?: string }

function Pools({ session, perms, route }: Props) {
  const [error, setError] = useState("");
  const [rows, reload, loaded] = useList<Pool>(session, "/pools", setError);
  const [selected, setSelected] = useState<string>();
  const [members, setMembers] = useState<Member[]>([]);
  const [tick, setTick] = useState(0);
  const create = may(perms, "/pool", "Pool.Allocate");
  // with no pool chosen the buttons follow /pool, so that they show (disabled) as Proxmox's do
  const onPool = (id?: string) => (id ? may(perms, `/pool/${id}`, "Pool.Allocate") : create);
  const target = route.id ?? selected;
  const actions: Action[] = [
    { name: "create", label: "Create", allowed: create, needs: ["/pool", "Pool.Allocate"] },
    { name: "edit", label: "Edit", allowed: onPool(target), needs: [`/pool/${target}`, "Pool.Allocate"], needsRow: true },
    { name: "remove", label: "Remove", allowed: onPool(target), needs: [`/pool/${target}`, "Pool.Allocate"], needsRow: true },
    { name: "add-vm", label: "Add: Virtual Machine", allowed: onPool(target), needs: [`/pool/${target}`, "Pool.Allocate"], needsRow: true },
    { name: "add-storage", label: "Add: Storage", allowed: onPool(target), needs: [`/pool/${target}`, "Pool.Allocate"], needsRow: true },
  ];
  useEffect(() => {
    if (!selected) return setMembers([]);
    call<{ members: Member[] }>("GET", `/pools/${encodeURIComponent(selected)}`, {}, session)
      .then((p) => setMembers(p.members ?? []), () => setMembers([]));
  }, [selected, tick]);
  const done = () => { reload(); setTick(tick + 1); go("pools"); };
  const denied = guard(perms, route, actions, "pools", found(loaded, (p) => p.poolid === route.id));
  const row = rows.find((p) => p.poolid === route.id);
  const path = row ? `/pools/${encodeURIComponent(row.poolid)}` : "";
  return (
    <section id="view-pools">
      <Toolbar tab="pools" actions={actions} selected={selected} />
      {error && <p class="error">{error}</p>}
      {denied}
      {!denied && route.action === "create" && (
        <Dialog id="pool-dialog" title="Create: Pool" fields={[{ name: "poolid", label: "Name" }, { name: "comment", label: "Comment" }]}
          submit={(v) => call("POST", "/pools", given(v, "poolid", "comment"), session)} onDone={done} />
      )}
      {!denied && route.action === "edit" && row && (
        <Dialog id="pool-dialog" title={`Edit: Pool ${row.poolid}`} fields={[{ name: "comment", label: "Comment" }]} initial={{ comment: row.comment ?? "" }}
          submit={(v) => call("PUT", path, { comment: v.comment ?? "" }, session)} onDone={done} />
      )}
      {!denied && route.action === "add-vm" && row && (
        <Dialog id="pool-dialog" title={`Add: Virtual Machine to ${row.poolid}`} fields={[{ name: "vms", label: "VM IDs", placeholder: "100,101" }]}
          submit={(v) => call("PUT", path, given(v, "vms"), session)} onDone={done} />
      )}
      {!denied && route.action === "add-storage" && row && (
        <Dialog id="pool-dialog" title={`Add: Storage to ${row.poolid}`} fields={[{ name: "storage", label: "Storage" }]}
          submit={(v) => call("PUT", path, given(v, "storage"), session)} onDone={done} />
      )}
      {!denied && route.action === "remove" && row && (
        <Confirm id="confirm" text={`Remove pool ${row.poolid}?`} run={() => call("DELETE", path, {}, session)} onDone={done} />
      )}
      <Grid<Pool> id="pools-grid" rows={rows} rowKey={(p) => p.poolid} selected={selected} onSelect={setSelected} columns={[
        ["Name", (p) => p.poolid], ["Comment", (p) => p.comment ?? ""],
      ]} />
      {selected && (
        <div class="members">
          <h3>Members of {selected}</h3>
          <Grid<Member> id="pool-members" rows={members} rowKey={(m) => m.id} columns={[
            ["ID", (m) => m.id], ["Type", (m) => m.type], ["Node", (m) => m.node ?? ""],
            ["", (m) => onPool(selected) && (
              <button class="remove-member" onClick={() => call("PUT", `/pools/${encodeURIComponent(selected)}`,
                m.type === "storage" ? { storage: m.storage ?? "", delete: "1" } : { vms: String(m.vmid), delete: "1" }, session)
                .then(() => setTick(tick + 1), (e) => setError(String(e)))}>Remove</button>
            )],
          ]} />
        </div>
      )}
    </section>
  );
}

interface Role { roleid: string; privs?: string; special?: number }

function Roles({ session, perms, route }: Props) {
  const [error, setError] = useState("");
  const [rows, reload, loaded] = useList<Role>(session, "/access/roles", setError);
  const [selected, setSelected] = useState<string>();
  const allowed = may(perms, "/access", "Sys.Modify");
  const needs: [string, string] = ["/access", "Sys.Modify"];
  const actions: Action[] = [
    { name: "create", label: "Create", allowed, needs },
    { name: "edit", label: "Edit", allowed, needs, needsRow: true },
    { name: "remove", label: "Remove", allowed, needs, needsRow: true },
  ];
  const done = () => { reload(); go("roles"); };
  // the privileges there are: Administrator has every one
  const privileges = (rows.find((r) => r.roleid === "Administrator")?.privs ?? "").split(",").filter(Boolean).sort();
  const denied = guard(perms, route, actions, "roles", found(loaded, (r) => r.roleid === route.id));
  const row = rows.find((r) => r.roleid === route.id);
  return (
    <section id="view-roles">
      <Toolbar tab="roles" actions={actions} selected={selected} />
      {error && <p class="error">{error}</p>}
      {denied}
      {!denied && route.action === "create" && (
        <Dialog id="role-dialog" title="Create: Role" fields={[{ name: "roleid", label: "Name" }, { name: "privs", label: "Privileges", type: "multi", options: privileges }]}
          submit={(v) => call("POST", "/access/roles", given(v, "roleid", "privs"), session)} onDone={done} />
      )}
      {!denied && route.action === "edit" && row && (
        <Dialog id="role-dialog" title={`Edit: Role ${row.roleid}`} fields={[{ name: "privs", label: "Privileges", type: "multi", options: privileges }]} initial={{ privs: row.privs ?? "" }}
          submit={(v) => call("PUT", `/access/roles/${encodeURIComponent(row.roleid)}`, { privs: v.privs ?? "" }, session)} onDone={done} />
      )}
      {!denied && route.action === "remove" && row && (
        <Confirm id="confirm" text={`Remove role ${row.roleid}?`}
          run={() => call("DELETE", `/access/roles/${encodeURIComponent(row.roleid)}`, {}, session)} onDone={done} />
      )}
      <Grid<Role> id="roles-grid" rows={rows} rowKey={(r) => r.roleid} selected={selected} onSelect={setSelected} columns={[
        ["Name", (r) => r.roleid], ["Built-In", (r) => (r.special ? "Yes" : "No")], ["Privileges", (r) => (r.privs ?? "").split(",").join(" ")],
      ]} />
    </section>
  );
}

interface Token { userid: string; tokenid: string; comment?: string; expire?: number; privsep?: number }

function Tokens({ session, perms, route }: Props) {
  const [error, setError] = useState("");
  const [users] = useList<User>(session, "/access/users", setError);
  const [tokens, setTokens] = useState<Token[]>([]);
  const [tick, setTick] = useState(0);
  const [selected, setSelected] = useState<string>();
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  useEffect(() => {
    Promise.all(users.map((u) => call<Token[]>("GET", `/access/users/${encodeURIComponent(u.userid)}/token`, {}, session)
      .then((list) => list.map((t) => ({ ...t, userid: u.userid })), () => [] as Token[])))
      .then((lists) => setTokens(lists.flat()));
  }, [users, tick]);
  const modify = may(perms, "/access/groups", "User.Modify");
  const needs: [string, string] = ["/access/groups", "User.Modify"];
  const actions: Action[] = [
    { name: "create", label: "Add", allowed: true, needs },
    { name: "remove", label: "Remove", allowed: true, needs, needsRow: true },
  ];
  const key = (t: Token) => `${t.userid}!${t.tokenid}`;
  const row = tokens.find((t) => key(t) === route.id);
  const done = (answer: unknown) => {
    const a = answer as { "full-tokenid"?: string; value?: string } | null;
    if (a && a.value) setSecret({ id: a["full-tokenid"] ?? "", value: a.value });
    setTick(tick + 1);
    go("tokens");
  };
  // one's own tokens are always one's own to manage; another user's need User.Modify
  const others = users.filter((u) => modify || u.userid === session.username).map((u) => u.userid);
  const denied = route.action === "remove" && row && !modify && row.userid !== session.username
    ? <Denied what="Remove (API tokens of another user)" privilege="User.Modify" path="/access/groups" />
    : guard(perms, route, actions, "API tokens");
  return (
    <section id="view-tokens">
      <Toolbar tab="tokens" actions={actions} selected={selected} />
      {error && <p class="error">{error}</p>}
      {secret && (
        <div class="dialog" id="token-secret">
          <p>Token ID: <code>{secret.id}</code></p>
          <p>Secret: <code id="token-secret-value">{secret.value}</code></p>
          <p>Please record the API token secret: it will only be displayed now.</p>
          <button onClick={() => setSecret(null)}>OK</button>
        </div>
      )}
      {denied}
      {!denied && route.action === "create" && (
        <Dialog id="token-dialog" title="Add: Token" initial={{ userid: session.username, privsep: "1" }}
          fields={[{ name: "userid", label: "User", type: "select", options: others }, { name: "tokenid", label: "Token ID" },
            { name: "privsep", label: "Privilege Separation", type: "checkbox" }, { name: "expire", label: "Expire (epoch, 0 = never)" },
            { name: "comment", label: "Comment" }]}
          submit={(v) => {
            if (!v.userid) throw new ApiError(400, "Parameter verification failed.", { userid: "property is missing and it is not optional" });
            return call("POST", `/access/users/${encodeURIComponent(v.userid)}/token/${encodeURIComponent(v.tokenid ?? "")}`,
              given(v, "privsep", "expire", "comment"), session);
          }}
          onDone={done} />
      )}
      {!denied && route.action === "remove" && row && (
        <Confirm id="confirm" text={`Remove API token ${key(row)}?`}
          run={() => call("DELETE", `/access/users/${encodeURIComponent(row.userid)}/token/${encodeURIComponent(row.tokenid)}`, {}, session)}
          onDone={() => done(null)} />
      )}
      <Grid<Token> id="tokens-grid" rows={tokens} rowKey={key} selected={selected} onSelect={setSelected} columns={[
        ["User name", (t) => t.userid], ["Token name", (t) => t.tokenid],
        ["Expire", (t) => (t.expire ? new Date(t.expire * 1000).toLocaleDateString() : "never")],
        ["Comment", (t) => t.comment ?? ""], ["Privilege Separation", (t) => (t.privsep === 0 ? "No" : "Yes")],
      ]} />
    </section>
  );
}

interface Acl { path: string; type: string; ugid: string; roleid: string; propagate: number }

function Acls({ session, perms, route, reloadPerms }: Props) {
  const [error, setError] = useState("");
  const [rows, reload, loaded] = useList<Acl>(session, "/access/acl", setError);
  const [roles] = useList<Role>(session, "/access/roles", setError);
  const [selected, setSelected] = useState<string>();
  const allowed = mayAnywhere(perms, "Permissions.Modify");
  const needs: [string, string] = ["/", "Permissions.Modify"];
  const actions: Action[] = [
    { name: "create", label: "Add", allowed, needs },
    { name: "remove", label: "Remove", allowed, needs, needsRow: true },
  ];
  const key = (a: Acl) => `${a.path}:${a.type}:${a.ugid}:${a.roleid}`;
  const done = () => { reload(); reloadPerms(); go("acl"); };
  const denied = guard(perms, route, actions, "permissions", found(loaded, (a) => key(a) === route.id));
  const row = rows.find((a) => key(a) === route.id);
  const param = (type: string) => (type === "group" ? "groups" : type === "token" ? "tokens" : "users");
  return (
    <section id="view-acl">
      <Toolbar tab="acl" actions={actions} selected={selected} />
      {error && <p class="error">{error}</p>}
      {denied}
      {!denied && route.action === "create" && (
        <Dialog id="acl-dialog" title="Add: Permission" initial={{ type: "user", propagate: "1" }}
          fields={[{ name: "path", label: "Path", placeholder: "/pool/name" },
            { name: "type", label: "Kind", type: "select", options: ["user", "group", "token"] },
            { name: "ugid", label: "User, Group or API Token" },
            { name: "roles", label: "Role", type: "select", options: roles.map((r) => r.roleid) },
            { name: "propagate", label: "Propagate", type: "checkbox" }]}
          submit={(v) => {
            const p = param(v.type || "user");
            return call("PUT", "/access/acl", { ...given(v, "path", "roles", "propagate"), ...(v.ugid ? { [p]: v.ugid } : {}) }, session)
              .catch((e) => {
                // the API names users/groups/tokens; the dialog shows it at its one field
                if (e instanceof ApiError && e.errors[p]) e.errors.ugid = e.errors[p];
                throw e;
              });
          }}
          onDone={done} />
      )}
      {!denied && route.action === "remove" && row && (
        <Confirm id="confirm" text={`Remove permission ${row.roleid} of ${row.ugid} on ${row.path}?`}
          run={() => call("PUT", "/access/acl", { path: row.path, roles: row.roleid, [param(row.type)]: row.ugid, delete: "1" }, session)}
          onDone={done} />
      )}
      <Grid<Acl> id="acl-grid" rows={rows} rowKey={key} selected={selected} onSelect={setSelected} columns={[
        ["Path", (a) => a.path], ["User/Group/API Token", (a) => a.ugid], ["Role", (a) => a.roleid], ["Propagate", (a) => (a.propagate ? "true" : "false")],
      ]} />
    </section>
  );
}

const TABS: [string, string, (p: Props) => ComponentChildren][] = [
  ["users", "Users", Users],
  ["tokens", "API Tokens", Tokens],
  ["groups", "Groups", Groups],
  ["pools", "Pools", Pools],
  ["roles", "Roles", Roles],
  ["acl", "Permissions", Acls],
];

/** The datacenter's tabs after its summary; {@code summary} is shown for the "summary" tab. */
export function Datacenter({ session, route, summary }: { session: Session; route: Route; summary: ComponentChildren }) {
  const [perms, setPerms] = useState<Permissions | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    call<Permissions>("GET", "/access/permissions", {}, session).then(setPerms, () => setPerms({}));
  }, [session, tick]);
  const tab = TABS.find(([id]) => id === route.tab);
  const View = tab?.[2];
  return (
    <div class="datacenter">
      <div class="tabs" role="tablist">
        <a href="#/dc/summary" id="tab-summary" class={route.tab === "summary" ? "active" : ""}>Summary</a>
        {TABS.map(([id, title]) => <a href={`#/dc/${id}`} id={`tab-${id}`} class={route.tab === id ? "active" : ""}>{title}</a>)}
      </div>
      {route.tab === "summary" ? summary : View ? (
        // keyed by tab so that a tab's state starts fresh
        <View key={route.tab} session={session} perms={perms} route={route} reloadPerms={() => setTick(tick + 1)} />
      ) : <p class="denied" id="denied">There is no view "{route.tab}".</p>}
    </div>
  );
}
