import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadConfig } from "./config";
import { initI18n } from "./i18n";
import "./styles.css";

initI18n();
const root = createRoot(document.getElementById("root")!);
loadConfig().then(
  (config) => root.render(<StrictMode><App config={config} /></StrictMode>),
  (err) => root.render(<main className="state error" role="alert">StockLink: {String(err)}</main>),
);
