// The view of views.Render3D, an anywidget ES module: NiiVue (its ES
// module source in the state key "niivue", loaded once per page from a
// blob URL) draws the image and its labels, both NIfTI bytes in binary
// buffers, as three slices and a volume rendering.
let niivue;

function blobURL(view, type) {
  return URL.createObjectURL(new Blob([view], { type }));
}

async function loadNiiVue(model) {
  if (!niivue) {
    niivue = import(blobURL(model.get("niivue"), "text/javascript"));
  }
  return niivue;
}

function labelMap(colours) {
  const cm = { R: [0], G: [0], B: [0], A: [0], I: [0] };
  for (const [label, r, g, b] of colours) {
    cm.R.push(r); cm.G.push(g); cm.B.push(b); cm.A.push(255); cm.I.push(label);
  }
  return cm;
}

async function render({ model, el }) {
  const { Niivue, SHOW_RENDER } = await loadNiiVue(model);
  const box = document.createElement("div");
  box.className = "unetlab-render3d";
  box.style.height = model.get("height") + "px";
  box.style.width = "100%";
  box.style.position = "relative";
  const canvas = document.createElement("canvas");
  canvas.style.width = "100%";
  canvas.style.height = "100%";
  box.appendChild(canvas);
  el.appendChild(box);
  const nv = new Niivue({ backColor: [0, 0, 0, 1], show3Dcrosshair: false, isColorbar: false,
    multiplanarShowRender: SHOW_RENDER.ALWAYS });
  await nv.attachToCanvas(canvas);
  const volumes = [{ url: blobURL(model.get("image"), "application/octet-stream"), name: "image.nii" }];
  const labels = model.get("labels");
  if (labels) {
    volumes.push({ url: blobURL(labels, "application/octet-stream"), name: "labels.nii",
      opacity: model.get("opacity") });
  }
  await nv.loadVolumes(volumes);
  if (labels) {
    nv.volumes[1].setColormapLabel(labelMap(model.get("label_colours")));
    nv.updateGLVolume();
  }
  nv.setSliceType(nv.sliceTypeMultiplanar);
  box.dataset.ready = "1";
  const onOpacity = () => {
    if (nv.volumes.length > 1) nv.setOpacity(1, model.get("opacity"));
  };
  model.on("change:opacity", onOpacity);
  return () => model.off("change:opacity", onOpacity);
}

export default { render };
