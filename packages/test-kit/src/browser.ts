import { parseJsonBody } from "./http.ts";

/**
 * A minimal browser for sign-on tests: real HTTP through fetch, following redirects by hand and
 * keeping cookies per host (like a browser, ignoring the port), so that an identity provider's
 * session and interaction cookies and Tessera's binding cookie all work. One Browser per user.
 */
export interface Visit {
  status: number;
  url: string;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
  body: any;
  /** Every URL requested, in order. */
  chain: string[];
}

export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  /** Cookies held for a host (name → value). */
  cookies(host: string): Map<string, string> {
    let cookies = this.jar.get(host);
    if (!cookies) {
      cookies = new Map();
      this.jar.set(host, cookies);
    }
    return cookies;
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const separator = pair.indexOf("=");
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", setting = ""] = attribute.split("=").map((part) => part.trim().toLowerCase());
        return (key === "max-age" && Number(setting) <= 0) || (key === "expires" && Date.parse(setting) < Date.now());
      });
      if (expired) this.cookies(url.hostname).delete(name);
      else this.cookies(url.hostname).set(name, value);
    }
  }

  /**
   * Navigates to `url` and follows redirects until a page answers, or until `stopAt` says a URL
   * is where the test takes over (a return URL that no server here answers).
   */
  async visit(url: string, options: { stopAt?: (url: URL) => boolean; maxRedirects?: number } = {}): Promise<Visit> {
    const chain: string[] = [];
    let current = new URL(url);
    for (let hop = 0; hop <= (options.maxRedirects ?? 20); hop++) {
      if (options.stopAt?.(current)) {
        return { status: 0, url: current.href, headers: new Headers(), text: "", body: undefined, chain };
      }
      chain.push(current.href);
      const cookies = [...this.cookies(current.hostname)].map(([name, value]) => `${name}=${value}`).join("; ");
      const response = await fetch(current, { redirect: "manual", headers: cookies ? { cookie: cookies } : {} });
      this.store(current, response.headers);
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        current = new URL(location, current);
        continue;
      }
      const text = await response.text();
      const body = parseJsonBody(text);
      return { status: response.status, url: current.href, headers: response.headers, text, body, chain };
    }
    throw new Error(`too many redirects: ${chain.join(" -> ")}`);
  }
}
