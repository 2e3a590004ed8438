import type { Role } from "@tessera/protocol";
import { TesseraError } from "../errors/tessera-error.ts";
import type { Principal } from "./principal.ts";

/**
 * An admin holds every permission but none over owners: only an owner grants the owner role or
 * acts on what belongs to an owner's membership (its sessions, its API keys). 403 otherwise;
 * `action` completes "Only an owner may …".
 */
export function assertMayActOn(caller: Pick<Principal, "role">, targetRole: Role, action: string): void {
  if (targetRole === "owner" && caller.role !== "owner") {
    throw new TesseraError("forbidden", `Only an owner may ${action}`);
  }
}
