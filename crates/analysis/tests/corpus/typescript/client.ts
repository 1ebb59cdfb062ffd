// Typed API client for the admin dashboard.
import { exec } from "child_process";

interface User {
  id: number;
  name: string;
  email: string;
}

const password = "hunter2-but-much-longer-9f8e7d"; // expect: security.hardcoded-secret

export class AdminClient {
  constructor(private readonly baseUrl: string) {}

  async users(search: string): Promise<User[]> {
    const sql = "SELECT * FROM users WHERE name LIKE '%" + search + "%'"; // expect: security.sql-injection
    return this.post<User[]>("/query", { sql });
  }

  async user(id: number): Promise<User | undefined> {
    const res = await fetch(`${this.baseUrl}/users/${id}`);
    if (!res.ok) {
      return undefined;
    }
    return (await res.json()) as User;
  }

  backup(target: string): void {
    exec(`pg_dump app > ${target}`); // expect: security.shell-injection
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    return (await res.json()) as T;
  }
}

export const compute = (formula: string): number => new Function(`return ${formula}`)(); // expect: security.eval
