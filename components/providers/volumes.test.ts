import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Inventory } from "../../model";
import { awsConfig, digitaloceanConfig, TEST_SECRETS } from "../../test/configs";
import { ProgramRun, runProgram } from "../plan/offlineEngine";

/** Each machine's volumes by purpose, followed through the attachments (droplet/instance id → volume). */
function attachedVolumes(
  r: ProgramRun,
  machineType: string,
  machineName: (m: ProgramRun["resources"][number]) => string,
  machineKey: string,
  attachmentType: string,
  volumeType: string,
) {
  const machineById = new Map(r.resources.filter((x) => x.type === machineType).map((m) => [String(m.id), machineName(m)]));
  const volumeById = new Map(r.resources.filter((x) => x.type === volumeType).map((v) => [String(v.id), v]));
  const out = new Map<string, ProgramRun["resources"][number]>();
  for (const a of r.resources.filter((x) => x.type === attachmentType)) {
    const v = volumeById.get(String(a.inputs.volumeId))!;
    const purpose = /-(db|share)-volume$/.exec(v.name)![1];
    out.set(`${machineById.get(String(a.inputs[machineKey]))}/${purpose}`, v);
  }
  return out;
}

/** The inventory the program exports carries each database node's volumes as stable device paths. */
describe("inventory: data volumes by stable device path (setMocks)", () => {
  it("DigitalOcean: /dev/disk/by-id/scsi-0DO_Volume_<volume name> of the volumes attached to that very droplet", async () => {
    const r = await runProgram(digitaloceanConfig(2), { secrets: TEST_SECRETS });
    const inv = r.outputs.inventory as Inventory;
    const attached = attachedVolumes(
      r,
      "digitalocean:index/droplet:Droplet",
      (d) => String(d.inputs.name),
      "dropletId",
      "digitalocean:index/volumeAttachment:VolumeAttachment",
      "digitalocean:index/volume:Volume",
    );
    for (const node of inv.nodes) {
      if (node.role !== "parent" && node.role !== "standby") {
        assert.equal(node.dataDevices, undefined, node.name);
        continue;
      }
      for (const purpose of ["db", "share"] as const) {
        const volume = attached.get(`${node.name}/${purpose}`);
        assert.ok(volume, `${node.name} has its ${purpose} volume attached`);
        assert.equal(node.dataDevices?.[purpose], `/dev/disk/by-id/scsi-0DO_Volume_${volume.inputs.name}`);
      }
    }
  });

  it("AWS: the NVMe by-id path from the EBS volume id of the volume attached to that very instance (not /dev/sdf)", async () => {
    const r = await runProgram(awsConfig(2));
    const inv = r.outputs.inventory as Inventory;
    const attached = attachedVolumes(
      r,
      "aws:ec2/instance:Instance",
      (i) => (i.inputs.tags as Record<string, string>).Name,
      "instanceId",
      "aws:ec2/volumeAttachment:VolumeAttachment",
      "aws:ebs/volume:Volume",
    );
    const dbNodes = inv.nodes.filter((n) => n.role === "parent" || n.role === "standby");
    assert.equal(dbNodes.length, 2);
    for (const node of inv.nodes.filter((n) => !dbNodes.includes(n))) assert.equal(node.dataDevices, undefined, node.name);
    for (const node of dbNodes) {
      for (const purpose of ["db", "share"] as const) {
        const id = String(attached.get(`${node.name}/${purpose}`)?.id ?? "");
        assert.match(id, /^vol-[0-9a-f]{17}$/, `${node.name} ${purpose} volume attached`);
        assert.equal(node.dataDevices?.[purpose], `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${id.replace("-", "")}`);
      }
      assert.notEqual(node.dataDevices!.db, node.dataDevices!.share);
    }
  });
});
