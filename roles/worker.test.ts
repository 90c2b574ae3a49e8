// The worker's Celery unit consumes the queues django-ha:app.celeryQueues names: Celery's default queue for a
// project of its own, the sample's "video" queue, or the project's list.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAppConfig, SAMPLE_APP } from "../model/app";
import { fixtureContext } from "./fixtures";
import { renderClusterPlans } from "./plan";
import { CELERY_UNIT, celeryUnit } from "./worker";
import { renderUnit, unitPath } from "./files/systemd";
import type { FileAction } from "./actions";
import type { AppSpec } from "../model";

/** The worker's rendered Celery unit (undefined when the plan stops Celery) for a stack's app. */
function workerCeleryUnit(app: AppSpec): string | undefined {
  const worker = renderClusterPlans(fixtureContext({ app })).find((p) => p.role === "worker")!;
  const unit = worker.actions.find((a): a is FileAction => a.kind === "file" && a.file.path === unitPath(CELERY_UNIT));
  return unit?.file.content;
}

const execStart = (unit: string) => /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";

describe("the worker's Celery queues", () => {
  it("the sample app's worker consumes its video queue", () => {
    assert.match(execStart(workerCeleryUnit(SAMPLE_APP)!), / -A djangoha_app worker -Q video /);
  });

  it("a project of its own: Celery's default queue unless it lists its queues", () => {
    const own = { ...SAMPLE_APP, source: { kind: "git" as const, url: "https://example.org/shop.git", ref: "main" }, celeryApp: "shop" };
    const byDefault = parseAppConfig(
      { git: own.source.url, ref: "main", wsgiModule: "shop.wsgi:application", settingsModule: "shop.settings", celeryApp: "shop" },
      "t",
    );
    assert.match(execStart(workerCeleryUnit(byDefault)!), / -A shop worker -Q celery /);
    assert.match(execStart(workerCeleryUnit({ ...own, celeryQueues: ["celery", "mail.high"] })!), / -Q celery,mail\.high /);
    assert.match(
      renderUnit(celeryUnit({ celeryApp: "shop", celeryQueues: ["celery", "mail.high"] })),
      /^Description=django-ha: Celery worker \(queues celery, mail\.high\)$/m,
    );
  });

  it("no Celery app: no unit, Celery stopped", () => {
    const { celeryApp: _none, ...noCelery } = SAMPLE_APP;
    const worker = renderClusterPlans(fixtureContext({ app: noCelery })).find((p) => p.role === "worker")!;
    assert.equal(workerCeleryUnit(noCelery), undefined);
    assert.ok(worker.actions.some((a) => a.kind === "service" && a.name === CELERY_UNIT && a.state === "stopped"));
  });
});

describe("the share's NFS mount on the children and the worker", () => {
  it("bounds directory attribute caching to 3 s: a maintenance flag made on another node is seen within seconds", () => {
    for (const plan of renderClusterPlans(fixtureContext()).filter((p) => p.role === "child" || p.role === "worker")) {
      const mount = plan.actions.find((a): a is FileAction => a.kind === "file" && a.file.path === unitPath("srv-share.mount"));
      assert.ok(mount, `${plan.node.name} mounts the share`);
      const options = /^Options=(.*)$/m.exec(mount.file.content)?.[1].split(",") ?? [];
      assert.ok(options.includes("acdirmin=1") && options.includes("acdirmax=3"), `${plan.node.name}: ${options.join(",")}`);
      assert.ok(options.includes("hard") && options.includes("vers=4.1"), `${plan.node.name}: ${options.join(",")}`);
      assert.ok(!options.some((o) => /^(actimeo|acregmax|acregmin)=|^noac$/.test(o)), "file attribute caching keeps Linux's defaults");
    }
  });
});
