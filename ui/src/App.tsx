// The shell: sign-in gate, navigation, and one route per page.

import { createContext, useContext, useEffect, useState } from "react";
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { api, onUnauthorized } from "./api/client";
import type { User } from "./api/types";
import { clearToken, getToken } from "./auth";
import { AuditPage } from "./pages/AuditPage";
import { RunnersPage } from "./pages/RunnersPage";
import { ConnectionsPage } from "./pages/ConnectionsPage";
import { EventsPage } from "./pages/EventsPage";
import { RunPage } from "./pages/RunPage";
import { RunsPage } from "./pages/RunsPage";
import { SignInPage } from "./pages/SignInPage";
import { UsersPage } from "./pages/UsersPage";
import { WorkflowPage } from "./pages/WorkflowPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";

interface Session {
  user: User | null;
  signOut: () => void;
}

const SessionContext = createContext<Session>({ user: null, signOut: () => {} });
export const useSession = () => useContext(SessionContext);

const NAV = [
  ["/workflows", "Workflows"],
  ["/runs", "Runs"],
  ["/connections", "Connections"],
  ["/users", "Users"],
  ["/audit", "Audit"],
  ["/events", "Events"],
  ["/runners", "Runners"],
] as const;

function Shell({ user, signOut }: { user: User | null; signOut: () => void }) {
  return (
    <SessionContext.Provider value={{ user, signOut }}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/workflows" className="brand" aria-label="Switchyard home">
          Switchyard
        </NavLink>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to}>{label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {user && (
            <span data-testid="signed-in-as">
              {user.name} <span className="muted">({user.role})</span>
            </span>
          )}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to="/workflows" replace />} />
          <Route path="/workflows" element={<WorkflowsPage />} />
          <Route path="/workflows/new" element={<WorkflowPage key="new" />} />
          <Route path="/workflows/:name" element={<WorkflowPage />} />
          <Route path="/runs" element={<RunsPage />} />
          <Route path="/runs/:id" element={<RunPage />} />
          <Route path="/connections" element={<ConnectionsPage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="/audit" element={<AuditPage />} />
          <Route path="/events" element={<EventsPage />} />
          <Route path="/runners" element={<RunnersPage />} />
          <Route path="/signin" element={<Navigate to="/workflows" replace />} />
          <Route path="*" element={<p>Nothing here. <NavLink to="/workflows">Back to the workflows</NavLink></p>} />
        </Routes>
      </main>
    </SessionContext.Provider>
  );
}

export function App() {
  const [token, setTokenState] = useState<string | null>(getToken());
  const [user, setUser] = useState<User | null>(null);
  const navigate = useNavigate();
  const location = useLocation();

  const signOut = () => {
    clearToken();
    setTokenState(null);
    setUser(null);
  };

  useEffect(() => onUnauthorized(signOut), []);
  useEffect(() => {
    if (token) api.me().then(setUser, () => setUser(null));
  }, [token]);

  if (!token) {
    return (
      <SignInPage
        onSignedIn={(t, u) => {
          setTokenState(t);
          setUser(u);
          const from = (location.state as { from?: string } | null)?.from;
          if (location.pathname === "/signin" || location.pathname === "/") navigate(from ?? "/workflows", { replace: true });
        }}
      />
    );
  }
  return <Shell user={user} signOut={signOut} />;
}
