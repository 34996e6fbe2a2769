import "vite/modulepreload-polyfill";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/base.css";
import "./styles/app.css";
import { QueryClientProvider } from "@tanstack/react-query";
import { configureApi } from "./api/client";
import { queryClient } from "./api/queryClient";
import { App } from "./App";
import { useSession } from "./lib/session";

interface Boot {
  user?: { username?: string };
  csrfToken?: string;
}

function readBoot(): Boot {
  const el = document.getElementById("datagran-boot");
  if (!el?.textContent) return {};
  try {
    return JSON.parse(el.textContent) as Boot;
  } catch {
    return {};
  }
}

const boot = readBoot();
configureApi({ csrfToken: boot.csrfToken });
useSession.setState({ username: boot.user?.username ?? "" });

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
}
