/** A cookie jar for the gateway's flow cookies (sign-in tests). */
export class Jar {
  private readonly cookies = new Map<string, string>();
  /** Keeps the `Set-Cookie`s of `res`; returns `res`. */
  take(res: Response): Response {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  }
  /** Sets one cookie, as a page of the same site would (e.g. another user signing in). */
  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }
  /** The `Cookie` header to send. */
  get header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}
