"""stylereel: GAN style transfer for film VFX, game scenes and ad work."""

__version__ = "0.1.0"

__all__ = ["Stylizer", "Trainer", "build_config", "__version__"]


def __getattr__(name):
    # Lazy so `import stylereel` stays cheap for the CLI's --help.
    if name == "Stylizer":
        from stylereel.render.stylize import Stylizer

        return Stylizer
    if name == "Trainer":
        from stylereel.train.trainer import Trainer

        return Trainer
    if name == "build_config":
        from stylereel.run import build_config

        return build_config
    raise AttributeError(name)
