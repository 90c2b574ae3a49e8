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
}

const withSlash = (p: string) => (p.endsWith("/") ? p : `${p}/`);

export function renderNginxSite(site: NginxSite): string {
  return `# django-ha: the app site. ACME HTTP-01 tokens: ${site.acmeWebroot}/.well-known/acme-challenge/<token>.
upstream django_ha_uwsgi {
    server unix:${site.uwsgiSocket};
}

server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name ${site.fqdn};

    location ^~ /.well-known/acme-challenge/ {
        root ${site.acmeWebroot};
        default_type text/plain;
        try_files $uri =404;
    }

    location / {
        return 301 https://$host$request_uri;
    }
}

server {
    listen 443 ssl http2 default_server;
    listen [::]:443 ssl http2 default_server;
    server_name ${site.fqdn};

    ssl_certificate ${site.tlsDir}/fullchain.pem;
    ssl_certificate_key ${site.tlsDir}/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:django_ha_tls:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;

    client_max_body_size ${site.clientMaxBodySize};
    server_tokens off;

    location ^~ /.well-known/acme-challenge/ {
        root ${site.acmeWebroot};
        default_type text/plain;
        try_files $uri =404;
    }

    # Collected static files have hashed names: cache them for a year.
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
    }

    location / {
        include uwsgi_params;
        uwsgi_param HTTP_X_FORWARDED_PROTO $scheme;
        uwsgi_pass django_ha_uwsgi;
        uwsgi_read_timeout 75s;
        uwsgi_send_timeout 75s;
    }
}
`;
}
