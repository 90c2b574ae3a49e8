/**
 * The new-order payload and the profile check against the directory. Pure. acme-client 5.4 sends the
 * payload of createOrder as given, so `profile` (draft-aaron-acme-profiles) and `replaces` (RFC 9773)
 * ride along without patching it.
 */
import { UserError } from "../../model/errors";

export interface NewOrderPayload {
  identifiers: { type: "dns"; value: string }[];
  profile?: string;
  replaces?: string;
}

export interface OrderInput {
  names: readonly string[];
  /** Sent only when configured. */
  profile?: string;
  /** The directory has `renewalInfo`. */
  ariOffered: boolean;
  /** ARI certID of the certificate being replaced, when there is one. */
  currentCertId?: string;
}

export function newOrderPayload(i: OrderInput): NewOrderPayload {
  return {
    identifiers: i.names.map((value) => ({ type: "dns" as const, value })),
    ...(i.profile !== undefined ? { profile: i.profile } : {}),
    ...(i.ariOffered && i.currentCertId !== undefined ? { replaces: i.currentCertId } : {}),
  };
}

/** The directory's `meta` as far as we read it. */
export interface DirectoryMeta {
  profiles?: Record<string, string>;
}

/** Refuse a configured profile the CA does not list, before any order is placed. */
export function checkProfile(profile: string | undefined, meta: DirectoryMeta | undefined, directoryUrl: string): void {
  if (profile === undefined) return;
  const offered = Object.keys(meta?.profiles ?? {});
  if (offered.includes(profile)) return;
  const list = offered.length > 0 ? `it offers ${offered.join(", ")}` : "it offers no profiles (no meta.profiles in its directory)";
  throw new UserError(
    `profile = "${profile}": the CA at ${directoryUrl} does not offer it; ${list}. Set profile to one of those in the stack config, or remove it to get the CA's default.`,
  );
}
