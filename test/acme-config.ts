/** An agent config (acme.json) as the bootstrap writes it, for the ACME agent's tests. */
export const goodConfig = {
  directoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
  email: "ops@django-ha.dev",
  certName: "www.django-ha.dev",
  names: ["www.django-ha.dev", "django-ha.dev"],
  challenge: "http-01",
  webroot: "/srv/share/acme",
  store: "/srv/share/tls",
  children: [
    { name: "child-1", address: "10.10.0.21" },
    { name: "child-2", address: "10.10.0.22" },
  ],
  checkEverySeconds: 3600,
  backoff: { baseSeconds: 300, capSeconds: 21600 },
  appUser: "950:950",
};
