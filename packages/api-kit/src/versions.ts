/**
 * Version discovery documents. keystoneauth and openstacksdk read them to find the
 * endpoint of a major version and its microversion range, so their shapes are exact:
 * Keystone's (keystone/api/discovery.py) and Nova's/Cinder's (views/versions.py).
 */

export interface VersionInfo {
  /** `v3.14`, `v2.1`, `v3.0`. */
  id: string;
  /** Keystone says `stable`; Nova and Cinder say `CURRENT`, `SUPPORTED` or `DEPRECATED`. */
  status: string;
  /** ISO 8601 date the version last changed. */
  updated: string;
  /** Where the version's API lives, relative to the base URL: `/v3/`, `/v2.1/`. */
  path: string;
  /** The vendor media type, e.g. `application/vnd.openstack.identity-v3+json`. */
  mediaType?: string;
  /** Microversion range; Nova sends empty strings for unversioned APIs. */
  version?: string;
  minVersion?: string;
  /** Documentation link added to the single-version document. */
  describedBy?: string;
}

export interface Link {
  rel: string;
  href: string;
  type?: string;
}

function selfLink(baseUrl: string, info: VersionInfo): Link {
  return { rel: 'self', href: baseUrl.replace(/\/+$/, '') + info.path };
}

function mediaTypes(info: VersionInfo): { base: string; type: string }[] {
  return info.mediaType ? [{ base: 'application/json', type: info.mediaType }] : [];
}

function keystoneEntry(baseUrl: string, info: VersionInfo): Record<string, unknown> {
  return {
    id: info.id,
    status: info.status,
    updated: info.updated,
    links: [selfLink(baseUrl, info)],
    'media-types': mediaTypes(info),
  };
}

/** Keystone's `GET /` body, served with status 300 Multiple Choices. */
export function keystoneVersions(baseUrl: string, versions: readonly VersionInfo[]) {
  return { versions: { values: versions.map((v) => keystoneEntry(baseUrl, v)) } };
}

/** Keystone's `GET /v3` body. */
export function keystoneVersion(baseUrl: string, info: VersionInfo) {
  return { version: keystoneEntry(baseUrl, info) };
}

/** Nova's (and Cinder's) `GET /` body: one entry per major version, self links only. */
export function novaVersions(baseUrl: string, versions: readonly VersionInfo[]) {
  return {
    versions: versions.map((info) => ({
      id: info.id,
      status: info.status,
      version: info.version ?? '',
      min_version: info.minVersion ?? '',
      updated: info.updated,
      links: [selfLink(baseUrl, info)],
    })),
  };
}

/** Nova's `GET /v2.1` body: adds the documentation link and media types. */
export function novaVersion(baseUrl: string, info: VersionInfo) {
  const links = [selfLink(baseUrl, info)];
  if (info.describedBy)
    links.push({ rel: 'describedby', type: 'text/html', href: info.describedBy });
  return {
    version: {
      id: info.id,
      status: info.status,
      version: info.version ?? '',
      min_version: info.minVersion ?? '',
      updated: info.updated,
      links,
      'media-types': mediaTypes(info),
    },
  };
}
