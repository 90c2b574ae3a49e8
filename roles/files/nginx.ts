/** The children's nginx site: HTTP→HTTPS (except ACME), TLS, static/media from the share, uWSGI upstream. */
export interface NginxSite {
  fqdn: string;
  /** Certificate directory holding fullchain.pem and privkey.pem. */
  tlsDir: string;
  acmeWebroot: string;
  staticDir: string;
  mediaDir: string;
  uwsgiSocket: string;
  /** Largest accepted upload (videos). */
  clientMaxBodySize: string;
  /** The app's health path: always passed to the app, whatever the mode (it tells about the app, not the mode). */
  healthPath: string;
  /** Present = maintenance page for every request (503, Retry-After). */
  maintenanceFlag: string;
  /** Present = GET and HEAD served, every other method a 503 page (Retry-After). */
  readOnlyFlag: string;
  /** Directory of maintenance.html, read-only.html and unhealthy.html. */
  pagesDir: string;
  /** While this file exists the app is hung: answer 503 at once (roles/appwatch.ts). */
  appUnhealthyFlag: string;
  /** Loopback-only port the watchdog asks the app through, without the flags. */
  appWatchPort: number;
}

/** Retry-After of the mode pages: a maintenance window is minutes, a read-only spell (a migration, a failover) shorter. */
export const MODE_RETRY_AFTER = { maintenance: 120, "read-only": 30, unhealthy: 10 } as const;
/** nginx's own pages: the operator's two modes, and the watchdog's "the app hangs" (roles/appwatch.ts). */
export type ModePage = keyof typeof MODE_RETRY_AFTER;
export const MODE_PAGES = Object.keys(MODE_RETRY_AFTER) as ModePage[];
/** Header nginx sets on its own mode pages (npm run maintenance waits until every child answers with it). */
export const MODE_HEADER = "X-Django-HA-Mode";

const PAGE_TEXT: Record<ModePage, [string, string]> = {
  maintenance: ["Down for maintenance", "This site is down for maintenance. Please try again in a few minutes."],
  "read-only": [
    "Read-only for a moment",
    "This site is read-only for a moment: you can browse, but changes (forms, uploads) are not accepted right now. Nothing you sent was saved. Please try again in a minute.",
  ],
  unhealthy: ["Not answering", "This server's application is not answering right now. Please try again in a few seconds."],
};

/** The pages nginx answers in maintenance and read-only mode, and while the app hangs. */
export function renderModePage(mode: ModePage): string {
  const [title, text] = PAGE_TEXT[mode];
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; padding: 0 1em">
<h1>${title}</h1>
<p>${text}</p>
</body>
</html>
`;
}

const withSlash = (p: string) => (p.endsWith("/") ? p : `${p}/`);

const uwsgiPass = `        include uwsgi_params;
        uwsgi_param HTTP_X_FORWARDED_PROTO $scheme;
        uwsgi_pass django_ha_uwsgi;
        uwsgi_read_timeout 75s;
        uwsgi_send_timeout 75s;`;

/** ACME HTTP-01 tokens from the shared webroot (the same on port 80 and 443: the CA may follow a redirect). */
const acmeLocation = (site: NginxSite) => `    location ^~ /.well-known/acme-challenge/ {
        root ${site.acmeWebroot};
        default_type text/plain;
        try_files $uri =404;
    }`;

/** Port 80: ACME tokens, everything else redirected to HTTPS. */
const httpServer = (site: NginxSite) => `server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name ${site.fqdn};

${acmeLocation(site)}

    location / {
        return 301 https://$host$request_uri;
    }
}`;

const tlsSettings = (site: NginxSite) => `    ssl_certificate ${site.tlsDir}/fullchain.pem;
    ssl_certificate_key ${site.tlsDir}/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:django_ha_tls:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;

    client_max_body_size ${site.clientMaxBodySize};
    server_tokens off;`;

const shareLocations = (site: NginxSite) => `    # Collected static files have hashed names: cache them for a year.
    location ^~ /static/ {
        alias ${withSlash(site.staticDir)};
        expires 365d;
        add_header Cache-Control "public, immutable";
        access_log off;
        try_files $uri =404;
    }

    # User uploads: short cache, never executed, never rendered as active content.
    location ^~ /media/ {
        alias ${withSlash(site.mediaDir)};
        expires 1h;
        add_header X-Content-Type-Options "nosniff" always;
        add_header Content-Security-Policy "default-src 'none'; sandbox" always;
        try_files $uri =404;
    }`;

const healthLocation = (
  site: NginxSite,
) => `    # The health path is the app's answer whatever the mode: deploys and the health agent ask it.
    location = ${site.healthPath} {
        if (-f ${site.appUnhealthyFlag}) {
            return 503;
        }
${uwsgiPass}
    }`;

/** The app, unless a mode flag (or the watchdog's) says nginx answers with its own page. */
const appLocation = (
  site: NginxSite,
) => `    # npm run maintenance: flags on the share, tested on every request (docs/releases.md). Only nginx's own 503s
    # become these pages (the app's 503 answers pass through as they are).
    location / {
        error_page 503 /.django-ha-mode/$django_ha_mode.html;
        set $django_ha_mode "";
        if (-f ${site.readOnlyFlag}) {
            set $django_ha_mode read-only;
        }
        if ($request_method ~ ^(GET|HEAD)$) {
            set $django_ha_mode "";
        }
        if (-f ${site.maintenanceFlag}) {
            set $django_ha_mode maintenance;
        }
        # The child's watchdog saw the app hang (roles/appwatch.ts): answer now rather than hold the visitor.
        if (-f ${site.appUnhealthyFlag}) {
            set $django_ha_mode unhealthy;
        }
        if ($django_ha_mode) {
            return 503;
        }
${uwsgiPass}
    }`;

const modePageLocation = (site: NginxSite, mode: ModePage) => `
    location = /.django-ha-mode/${mode}.html {
        internal;
        root ${site.pagesDir};
        try_files /${mode}.html =503;
        add_header Retry-After ${MODE_RETRY_AFTER[mode]} always;
        add_header ${MODE_HEADER} ${mode} always;
        add_header Cache-Control "no-store" always;
    }`;

const httpsServer = (site: NginxSite) => `server {
    listen 443 ssl http2 default_server;
    listen [::]:443 ssl http2 default_server;
    server_name ${site.fqdn};

${tlsSettings(site)}

${acmeLocation(site)}

${shareLocations(site)}

${healthLocation(site)}

${appLocation(site)}
${MODE_PAGES.map((mode) => modePageLocation(site, mode)).join("\n")}
}`;

/** The app as it is, for the watchdog only. */
const watchServer = (
  site: NginxSite,
) => `# The app as it is, for the watchdog only (loopback; the public site above checks the flags first).
server {
    listen 127.0.0.1:${site.appWatchPort};
    server_name ${site.fqdn};
    access_log off;

    location / {
        include uwsgi_params;
        # As the public site passes it, so a project that redirects http to https answers here too.
        uwsgi_param HTTP_X_FORWARDED_PROTO https;
        uwsgi_pass django_ha_uwsgi;
        uwsgi_read_timeout 5s;
    }
}`;

export function renderNginxSite(site: NginxSite): string {
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(site.healthPath))
    throw new Error(`healthPath ${JSON.stringify(site.healthPath)} must be a URL path of letters, digits and . _ ~ / - (e.g. "/health/")`);
  return `# django-ha: the app site. ACME HTTP-01 tokens: ${site.acmeWebroot}/.well-known/acme-challenge/<token>.
upstream django_ha_uwsgi {
    server unix:${site.uwsgiSocket};
}

${httpServer(site)}

${httpsServer(site)}

${watchServer(site)}
`;
}
