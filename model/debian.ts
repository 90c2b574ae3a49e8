/**
 * The Debian release every node runs, in ONE place (model/catalog.json "debian", "digitalocean.image",
 * "aws.ami"): the cloud images, the lab's bake suite, the role packages and every PostgreSQL path and unit
 * name derive from these constants.
 */
import catalog from "./catalog.json";

export const DEBIAN_RELEASE: number = catalog.debian.release;
/** The suite the lab bakes (debootstrap) and the nodes' apt sources name. */
export const DEBIAN_SUITE: string = catalog.debian.codename;
/** The PostgreSQL major Debian packages in this release (postgresql-<major>, cluster <major>/main). */
export const POSTGRES_MAJOR: number = catalog.debian.postgresqlMajor;
/** DigitalOcean droplet image slug. */
export const DIGITALOCEAN_IMAGE: string = catalog.digitalocean.image;
/** The official Debian AMIs: owner account and name pattern of this release. */
export const AWS_DEBIAN_AMI: { owner: string; namePattern: string; architecture: string } = catalog.aws.ami;
